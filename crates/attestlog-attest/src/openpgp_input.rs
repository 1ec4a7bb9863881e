//! Reading the signed input: the statement bytes and the signature packets,
//! from every form GnuPG and Sequoia produce by default.
//!
//! # Accepted forms
//!
//! * **Detached** (`gpg --detach-sign`, `gpg --armor --detach-sign`,
//!   `sq sign --detached`): the payload is the statement, byte for byte; the
//!   signature input is binary or ASCII-armored and holds one or more
//!   signature packets and nothing else.
//! * **Inline-signed** (`gpg --sign`, `sq sign`): an OpenPGP message, binary
//!   or armored, possibly compressed. After stepping into compressed data
//!   packets, the packets must form one signature layer:
//!
//!   ```text
//!   one-layer = 1*OPS literal 1*SIG   ; one-pass signed; every OPS but the
//!                                      ; last has its "last" flag clear
//!             / 1*SIG literal          ; signatures first (old style)
//!   ```
//!
//!   The statement is the literal data body.
//! * **Cleartext** (`gpg --clearsign`, `sq sign --cleartext`): the statement
//!   is the signed text after dash-unescaping, with trailing spaces and tabs
//!   removed from each line and without the line break before the
//!   `-----BEGIN PGP SIGNATURE-----` line (RFC 9580 §7), which is exactly
//!   what such a signature covers.
//!
//! Rejected: encrypted messages, messages without signatures, a signed
//! message inside a signed message ([`AttestError::NestedSignatures`]),
//! anything the packet grammar of RFC 9580 §10.3 refuses, and inputs beyond
//! the size limits.
//!
//! # Work bounds (hostile input)
//!
//! A message is attacker-chosen and may be compressed, so the walk is bounded
//! by structure, not only by the input size (`docs/SPEC.md` §6.3.4):
//!
//! * at most [`MAX_MESSAGE_PACKETS`] packets, counted across compression
//!   layers ([`AttestError::MessageTooComplex`]);
//! * no packet other than a literal or compressed data packet larger than
//!   [`MAX_PACKET_SIZE`] (Sequoia's `max_packet_size`: a longer one is not
//!   read, it is refused);
//! * the literal body read to at most [`MAX_ENTRY_SIZE`] + 1 bytes;
//! * one compression layer: a compressed packet inside a compressed packet
//!   is refused, and so are Marker and Padding packets (RFC 9580 allows
//!   them in messages; no signer of attestations emits them, and they are
//!   the cheapest way to make a parser loop);
//! * an optional deadline, checked before each packet
//!   ([`AttestError::BudgetExceeded`]).
//!
//! Together these bound the decompressed bytes ever read:
//! `MAX_MESSAGE_PACKETS × MAX_PACKET_SIZE + MAX_ENTRY_SIZE + 1`
//! ([`MAX_DECOMPRESSED_BYTES`]).

use std::io::Read;
use std::time::Instant;

use sequoia_openpgp::packet::{Packet, Signature};
use sequoia_openpgp::parse::{PacketParserBuilder, PacketParserResult, Parse};

use crate::error::AttestError;
use crate::{MAX_ENTRY_SIZE, MAX_SIGNATURES};

/// The most packets an inline-signed message may hold, compressed data
/// packets included: one compressed packet, one literal, and a one-pass
/// header and a signature for each of [`MAX_SIGNATURES`] signatures, with
/// room to spare.
pub const MAX_MESSAGE_PACKETS: usize = 4 * MAX_SIGNATURES + 4;

/// The largest packet, in bytes, other than literal and compressed data
/// (whose bodies are streamed and bounded separately): a signature packet's
/// subpacket areas are at most 2 × 65,535 bytes and its MPIs a few KiB,
/// but no real signature comes near 64 KiB.
pub const MAX_PACKET_SIZE: u32 = 65_536;

/// The most decompressed bytes reading one message can consume (a bound
/// implied by the limits above, stated for the specification).
pub const MAX_DECOMPRESSED_BYTES: usize =
    MAX_MESSAGE_PACKETS * MAX_PACKET_SIZE as usize + MAX_ENTRY_SIZE + 1;

/// The statement and the signatures found over it.
#[derive(Debug)]
pub(crate) struct SignedInput {
    /// The bytes the signatures are over (text signatures: before line-end
    /// normalization).
    pub statement: Vec<u8>,
    /// The signature packets, in input order.
    pub signatures: Vec<Signature>,
}

/// Reads a detached signature (binary or armored) over `statement`.
pub(crate) fn detached(statement: &[u8], signature: &[u8]) -> Result<SignedInput, AttestError> {
    let malformed = |reason: String| AttestError::MalformedSignature { reason };
    let mut signatures = Vec::new();
    let mut ppr = PacketParserBuilder::from_bytes(signature)
        .and_then(|b| {
            b.max_packet_size(MAX_PACKET_SIZE)
                .max_recursion_depth(0)
                .build()
        })
        .map_err(|e| malformed(e.to_string()))?;
    while let PacketParserResult::Some(pp) = ppr {
        let (packet, next) = pp.next().map_err(|e| malformed(e.to_string()))?;
        match packet {
            Packet::Signature(sig) => {
                signatures.push(sig);
                if signatures.len() > MAX_SIGNATURES {
                    return Err(AttestError::TooManySignatures {
                        count: signatures.len(),
                        max: MAX_SIGNATURES,
                    });
                }
            }
            Packet::Unknown(u) => {
                return Err(malformed(format!(
                    "unreadable {} packet: {}",
                    u.tag(),
                    u.error()
                )))
            }
            other => {
                return Err(malformed(format!(
                    "contains a {} packet; a detached signature holds only signature packets \
                     (was a signed message sent as the signature?)",
                    other.tag()
                )))
            }
        }
        ppr = next;
    }
    if signatures.is_empty() {
        return Err(AttestError::NoSignature);
    }
    Ok(SignedInput {
        statement: statement.to_vec(),
        signatures,
    })
}

/// The shape of one packet, for checking the layer structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    OnePass { last: bool },
    Literal,
    Signature,
}

/// Reads an inline-signed or cleartext-signed message (binary or armored),
/// giving up with [`AttestError::BudgetExceeded`] once `deadline` (if any)
/// has passed.
pub(crate) fn inline(
    message: &[u8],
    deadline: Option<Instant>,
) -> Result<SignedInput, AttestError> {
    let malformed = |reason: String| AttestError::MalformedMessage { reason };
    let mut ppr = PacketParserBuilder::from_bytes(message)
        .and_then(|b| {
            b.process_csf_message(true)
                .max_packet_size(MAX_PACKET_SIZE)
                // The top level and the inside of one compressed packet.
                .max_recursion_depth(1)
                .build()
        })
        .map_err(|e| malformed(e.to_string()))?;
    let mut shapes = Vec::new();
    let mut statement: Option<Vec<u8>> = None;
    let mut signatures = Vec::new();
    let mut cleartext = false;
    let mut packets = 0usize;
    while let PacketParserResult::Some(mut pp) = ppr {
        packets += 1;
        if packets > MAX_MESSAGE_PACKETS {
            return Err(AttestError::MessageTooComplex {
                reason: format!("more than {MAX_MESSAGE_PACKETS} packets"),
            });
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(AttestError::BudgetExceeded);
        }
        cleartext |= pp.processing_csf_message();
        match &pp.packet {
            Packet::Literal(_) => {
                if statement.is_some() {
                    return Err(malformed("more than one literal data packet".into()));
                }
                let mut body = Vec::new();
                (&mut pp)
                    .take(MAX_ENTRY_SIZE as u64 + 1)
                    .read_to_end(&mut body)
                    .map_err(|e| malformed(e.to_string()))?;
                if body.len() > MAX_ENTRY_SIZE {
                    return Err(AttestError::EntryTooLarge {
                        size: body.len(),
                        max: MAX_ENTRY_SIZE,
                    });
                }
                statement = Some(body);
                shapes.push(Shape::Literal);
            }
            Packet::OnePassSig(ops) => shapes.push(Shape::OnePass { last: ops.last() }),
            Packet::CompressedData(_) if pp.recursion_depth() == 0 => {}
            Packet::CompressedData(_) => {
                return Err(AttestError::MessageTooComplex {
                    reason: "compressed data inside compressed data".into(),
                })
            }
            Packet::Marker(_) | Packet::Padding(_) => {
                return Err(AttestError::MessageTooComplex {
                    reason: format!("a {} packet; attestations carry none", pp.packet.tag()),
                })
            }
            Packet::PKESK(_) | Packet::SKESK(_) | Packet::SEIP(_) => {
                return Err(AttestError::EncryptedMessage)
            }
            Packet::Signature(_) => {}
            Packet::Unknown(u) => {
                return Err(malformed(format!(
                    "unreadable {} packet: {}",
                    u.tag(),
                    u.error()
                )))
            }
            other => return Err(malformed(format!("unexpected {} packet", other.tag()))),
        }
        let (packet, next) = pp.recurse().map_err(|e| malformed(e.to_string()))?;
        if let Packet::Signature(sig) = packet {
            signatures.push(sig);
            shapes.push(Shape::Signature);
            if signatures.len() > MAX_SIGNATURES {
                return Err(AttestError::TooManySignatures {
                    count: signatures.len(),
                    max: MAX_SIGNATURES,
                });
            }
        }
        ppr = next;
    }
    if let PacketParserResult::EOF(eof) = &ppr {
        eof.is_message().map_err(|e| malformed(e.to_string()))?;
    }
    let statement = statement.ok_or_else(|| malformed("no literal data packet".into()))?;
    if signatures.is_empty() {
        return Err(AttestError::NoSignature);
    }
    check_one_layer(&shapes, cleartext)?;
    Ok(SignedInput {
        statement,
        signatures,
    })
}

/// Checks that the flattened packet shapes form exactly one signature layer.
fn check_one_layer(shapes: &[Shape], cleartext: bool) -> Result<(), AttestError> {
    let literal_at = shapes
        .iter()
        .position(|s| *s == Shape::Literal)
        .ok_or(AttestError::NoSignature)?;
    let (before, after) = (&shapes[..literal_at], &shapes[literal_at + 1..]);
    let one_pass: Vec<bool> = before
        .iter()
        .filter_map(|s| match s {
            Shape::OnePass { last } => Some(*last),
            _ => None,
        })
        .collect();
    let sigs_before = before.iter().filter(|s| **s == Shape::Signature).count();
    let sigs_after = after.iter().filter(|s| **s == Shape::Signature).count();
    if cleartext {
        // The cleartext transformation synthesizes one OPS per `Hash:`
        // header, not per signature; it never nests.
        return Ok(());
    }
    if one_pass.is_empty() {
        // Signatures first: 1*SIG literal.
        return if sigs_after == 0 {
            Ok(())
        } else {
            Err(AttestError::NestedSignatures)
        };
    }
    // RFC 9580 §5.4: a "last" flag of zero "indicates that the next packet is
    // another One-Pass Signature packet that describes another signature to
    // be applied to the same message data"; any earlier OPS with the flag set
    // closes a layer, so another one follows inside it.
    let closed_early = one_pass[..one_pass.len() - 1].iter().any(|last| *last);
    if closed_early || sigs_before > 0 || sigs_after != one_pass.len() {
        return Err(AttestError::NestedSignatures);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Shape::*;

    #[test]
    fn layer_shapes() {
        let ops = |last| OnePass { last };
        assert!(check_one_layer(&[ops(true), Literal, Signature], false).is_ok());
        assert!(check_one_layer(
            &[ops(false), ops(true), Literal, Signature, Signature],
            false
        )
        .is_ok());
        assert!(check_one_layer(&[Signature, Signature, Literal], false).is_ok());
        assert!(matches!(
            check_one_layer(
                &[ops(true), ops(true), Literal, Signature, Signature],
                false
            ),
            Err(AttestError::NestedSignatures)
        ));
        assert!(matches!(
            check_one_layer(&[ops(true), Signature, Literal, Signature], false),
            Err(AttestError::NestedSignatures)
        ));
        assert!(matches!(
            check_one_layer(&[Signature, Literal, Signature], false),
            Err(AttestError::NestedSignatures)
        ));
    }

    #[test]
    fn garbage_is_rejected_not_panicking() {
        assert!(inline(b"not openpgp", None).is_err());
        assert!(detached(b"x", b"not openpgp").is_err());
        assert!(detached(b"x", b"").is_err());
    }
}
