//! The gRPC port of the real `attestlog-server` against what is not a
//! well-formed request, and the standard services gRPC tools rely on:
//!
//! 1. bytes that are not HTTP/2 on the port: the connection is closed and
//!    the log keeps serving;
//! 2. a request body that is not a `SubmitRequest`: INTERNAL "failed to
//!    decode" (what gRPC implementations answer), nothing logged;
//! 3. a `SubmitRequest` with fields this version does not know: ignored, as
//!    proto3 says, and the entry is logged exactly as without them;
//! 4. grpc.health.v1 reports the log service SERVING;
//! 5. server reflection lists `attestlog.v1.Log` and serves its schema, so
//!    `grpcurl`-style tools work without the .proto file;
//! 6. a full queue answers RESOURCE_EXHAUSTED, and every acknowledged entry
//!    is in the log while no refused one is.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::Context as _;
use attestlog_e2e::load::{connect, signed_request};
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::{log_keygen, LogServer};
use attestlog_proto::v1 as pb;
use attestlog_proto::v1::log_client::LogClient;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic::Code;

const ORIGIN: &str = "edges.test/log";

/// A message whose field 1 is a varint where `SubmitRequest` has bytes.
#[derive(Clone, PartialEq, prost::Message)]
struct NotASubmitRequest {
    #[prost(uint64, tag = "1")]
    payload: u64,
}

/// `SubmitRequest` as a later version might send it, with two new fields.
#[derive(Clone, PartialEq, prost::Message)]
struct SubmitRequestWithExtras {
    #[prost(bytes = "vec", tag = "1")]
    payload: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    signature: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    certificate: Vec<u8>,
    #[prost(string, tag = "15")]
    note: String,
    #[prost(uint64, repeated, tag = "4242")]
    numbers: Vec<u64>,
}

/// Calls Submit with any message as the request body.
async fn raw_submit<M: prost::Message + Default + Send + 'static>(
    channel: Channel,
    msg: M,
) -> Result<pb::SubmitResponse, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let codec = tonic_prost::ProstCodec::<M, pb::SubmitResponse>::default();
    grpc.unary(
        tonic::Request::new(msg),
        PathAndQuery::from_static("/attestlog.v1.Log/Submit"),
        codec,
    )
    .await
    .map(|r| r.into_inner())
}

async fn tree_size(client: &mut LogClient<Channel>) -> anyhow::Result<u64> {
    Ok(client
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await?
        .into_inner()
        .size)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_and_standard_services() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    log_keygen(dir.path(), ORIGIN)?;
    let server = LogServer::start(dir.path(), ORIGIN, &["--batch-max-wait-ms", "1"])?;
    let channel = connect(&server.endpoint(), 1).await?.remove(0);
    let mut client = LogClient::new(channel.clone());
    let mut m = Maintainer::new("Edge <edge@edges.test>");

    // 1.
    let grpc = server.grpc;
    let closed = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let mut s = TcpStream::connect(grpc)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff\x13garbage")?;
        let mut got = Vec::new();
        // Read until the server closes (cleanly, or with a reset because
        // our garbage was left unread); a timeout fails the test.
        match s.read_to_end(&mut got) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => return Err(e.into()),
        }
        Ok(got.len())
    })
    .await??;
    assert!(
        closed < 4096,
        "the server answered garbage with {closed} bytes"
    );
    assert_eq!(tree_size(&mut client).await?, 0);

    // 2.
    let err = raw_submit(channel.clone(), NotASubmitRequest { payload: 7 })
        .await
        .expect_err("a varint where bytes belong must not decode");
    assert_eq!(err.code(), Code::Internal, "{err:?}");
    assert!(err.message().contains("decode"), "{err:?}");
    assert_eq!(tree_size(&mut client).await?, 0);

    // 3.
    let plain = signed_request(&mut m, "extras.tar.gz", 1);
    let with_extras = SubmitRequestWithExtras {
        payload: plain.payload.clone(),
        signature: plain.signature.clone(),
        certificate: plain.certificate.clone(),
        note: "from a newer client".into(),
        numbers: vec![1, 2, 3],
    };
    let first = raw_submit(channel.clone(), with_extras).await?;
    assert_eq!(first.index, 0);
    assert!(!first.duplicate);
    // The same submission without the extras is the same entry.
    let again = client.submit(plain).await?.into_inner();
    assert!(again.duplicate);
    assert_eq!((again.index, &again.entry), (first.index, &first.entry));

    // 4.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    for service in ["attestlog.v1.Log", ""] {
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await?
            .into_inner()
            .status;
        assert_eq!(
            status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "service {service:?}"
        );
    }
    let unknown = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "no.such.Service".into(),
        })
        .await
        .expect_err("unknown service");
    assert_eq!(unknown.code(), Code::NotFound);

    // 5.
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let mut reflection = ServerReflectionClient::new(channel.clone());
    let requests = [
        MessageRequest::ListServices(String::new()),
        MessageRequest::FileContainingSymbol("attestlog.v1.Log".into()),
    ]
    .map(|r| ServerReflectionRequest {
        host: String::new(),
        message_request: Some(r),
    });
    let mut answers = reflection
        .server_reflection_info(tokio_stream_iter(requests.to_vec()))
        .await?
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        answers.message().await?.and_then(|a| a.message_response)
    else {
        anyhow::bail!("no service list");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"attestlog.v1.Log"), "{names:?}");
    let Some(MessageResponse::FileDescriptorResponse(files)) =
        answers.message().await?.and_then(|a| a.message_response)
    else {
        anyhow::bail!("no file descriptor");
    };
    let schema: Vec<u8> = files.file_descriptor_proto.concat();
    for word in [
        "attestlog/v1/log.proto",
        "SubmitRequest",
        "GetInclusionProof",
    ] {
        assert!(
            schema.windows(word.len()).any(|w| w == word.as_bytes()),
            "{word} missing from the served schema"
        );
    }
    server.stop()?;
    Ok(())
}

fn tokio_stream_iter<T: Send + 'static>(
    items: Vec<T>,
) -> impl tonic::codegen::tokio_stream::Stream<Item = T> + Send + 'static {
    tonic::codegen::tokio_stream::iter(items)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_is_resource_exhausted_and_loses_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    log_keygen(dir.path(), ORIGIN)?;
    // One waiting entry at most: whatever arrives while the sequencer
    // writes a batch beyond that is refused.
    let server = LogServer::start(dir.path(), ORIGIN, &["--queue-limit", "1"])?;
    let channels = connect(&server.endpoint(), 4).await?;
    let mut client = LogClient::new(channels[0].clone());
    let mut keys: Vec<Maintainer> = (0..4)
        .map(|i| Maintainer::new(&format!("q{i} <q{i}@edges.test>")))
        .collect();
    let mut acknowledged: Vec<pb::SubmitResponse> = Vec::new();
    let mut refused = 0;
    for round in 0..10u64 {
        let mut tasks = Vec::new();
        for i in 0..256u64 {
            let req = signed_request(
                &mut keys[(i % 4) as usize],
                &format!("q-{round}-{i}.tar.gz"),
                round << 16 | i,
            );
            let mut c = LogClient::new(channels[(i % 4) as usize].clone());
            tasks.push(tokio::spawn(async move { c.submit(req).await }));
        }
        for t in tasks {
            match t.await? {
                Ok(r) => acknowledged.push(r.into_inner()),
                Err(s) if s.code() == Code::ResourceExhausted => {
                    assert!(s.message().contains("queue is full"), "{s:?}");
                    refused += 1;
                }
                Err(s) => anyhow::bail!("unexpected answer {s:?}"),
            }
        }
        if refused > 0 && round >= 1 {
            break;
        }
    }
    assert!(
        refused > 0,
        "no submission was refused with a one-entry queue"
    );
    // Everything acknowledged is there, at its index, and nothing else.
    let size = tree_size(&mut client).await?;
    assert_eq!(size, acknowledged.len() as u64);
    let mut logged = Vec::new();
    while (logged.len() as u64) < size {
        let start = logged.len() as u64;
        let mut page = client
            .get_entries(pb::GetEntriesRequest {
                start,
                end: (start + 1000).min(size),
            })
            .await?
            .into_inner();
        while let Some(e) = page.message().await? {
            logged.push(e);
        }
    }
    for a in &acknowledged {
        let e = logged
            .get(a.index as usize)
            .with_context(|| format!("entry {}", a.index))?;
        assert_eq!(e.data, a.entry, "entry {}", a.index);
    }
    eprintln!(
        "{} acknowledged, {refused} refused with RESOURCE_EXHAUSTED",
        acknowledged.len()
    );
    server.stop()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_key_rate_limit() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    log_keygen(dir.path(), ORIGIN)?;
    // A burst of 3, then one entry a minute.
    let server = LogServer::start(
        dir.path(),
        ORIGIN,
        &["--per-key-per-minute", "1", "--per-key-burst", "3"],
    )?;
    let mut client = LogClient::new(connect(&server.endpoint(), 1).await?.remove(0));
    let mut a = Maintainer::new("A <a@edges.test>");
    let mut b = Maintainer::new("B <b@edges.test>");

    let first = signed_request(&mut a, "a-0.tar.gz", 0);
    let logged = client.submit(first.clone()).await?.into_inner();
    // Replays are answered with the first entry and cost the key nothing.
    for _ in 0..5 {
        let again = client.submit(first.clone()).await?.into_inner();
        assert!(again.duplicate);
        assert_eq!(again.index, logged.index);
    }
    for i in 1..3 {
        client
            .submit(signed_request(&mut a, &format!("a-{i}.tar.gz"), i))
            .await?;
    }
    let refused = client
        .submit(signed_request(&mut a, "a-3.tar.gz", 3))
        .await
        .expect_err("a's burst of 3 is spent");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused
            .message()
            .contains("limit of 1 entries per minute (burst 3)")
            && refused.message().contains("retry in"),
        "{refused:?}"
    );
    // Another key is not affected.
    client
        .submit(signed_request(&mut b, "b-0.tar.gz", 100))
        .await?;
    assert_eq!(tree_size(&mut client).await?, 4);
    server.stop()?;
    Ok(())
}
