//! Statements in the docs that drift silently are checked against the code:
//! - docs/ARCHITECTURE.md's table of which workspace crate depends on which
//!   equals the normal dependencies in the crates' `Cargo.toml` files
//!   (read through `cargo metadata`, offline);
//! - every public module of attestlog-core is named in the core's scope
//!   list in docs/ARCHITECTURE.md and in the crate's own doc comment.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    attestlog_e2e::manifest_dir(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The lines between `<!-- NAME:begin -->` and `<!-- NAME:end -->`.
fn marked_block<'a>(text: &'a str, name: &str) -> &'a str {
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let start = text.find(&begin).unwrap_or_else(|| panic!("no {begin}")) + begin.len();
    let stop = text[start..]
        .find(&end)
        .unwrap_or_else(|| panic!("no {end}"))
        + start;
    &text[start..stop]
}

/// Crate name → workspace crates it depends on, as the metadata says.
fn manifest_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(repo())
        .output()
        .expect("running cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let members: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|n| members.contains(*n))
                .map(str::to_owned)
                .collect();
            (p["name"].as_str().expect("name").to_owned(), deps)
        })
        .collect()
}

/// The table rows `| crate | a, b |`, with backticks and spaces removed.
fn documented_dependencies(doc: &str) -> BTreeMap<String, BTreeSet<String>> {
    marked_block(doc, "crate-dependencies")
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("| crate") && !l.starts_with("|---"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 2, "table row {l:?}");
            let clean = |s: &str| s.trim().trim_matches('`').to_owned();
            let deps = cells[1]
                .split(',')
                .map(clean)
                .filter(|d| !d.is_empty() && d != "—")
                .collect();
            (clean(cells[0]), deps)
        })
        .collect()
}

#[test]
fn architecture_dependency_table_matches_the_manifests() {
    let doc = read("docs/ARCHITECTURE.md");
    assert_eq!(
        documented_dependencies(&doc),
        manifest_dependencies(),
        "docs/ARCHITECTURE.md's crate-dependencies table differs from the Cargo.toml files"
    );
}

#[test]
fn every_core_module_is_in_the_scope_lists() {
    let lib = read("crates/attestlog-core/src/lib.rs");
    let modules: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    assert!(modules.len() >= 5, "no modules found in core's lib.rs");
    let doc = read("docs/ARCHITECTURE.md");
    let scope = marked_block(&doc, "core-modules");
    for m in modules {
        assert!(
            scope.contains(&format!("`{m}`")),
            "core module `{m}` is not in docs/ARCHITECTURE.md's core scope list"
        );
        assert!(
            lib.contains(&format!("[`{m}`]")),
            "core module `{m}` is not named in core's crate doc comment"
        );
    }
}
