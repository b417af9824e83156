//! Embeds the demo page and the client sources (`../client-js/demo`, `../client-js/src`)
//! into the binary, so `matinee-server --demo` needs no files next to it. Missing or empty
//! folders are fine: the server then serves a minimal built-in page.

use std::fs;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = e.path();
        let rel = format!("{prefix}/{name}");
        if path.is_dir() {
            walk(&path, &rel, out);
        } else if path.is_file() {
            out.push((rel, path));
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let client = manifest.join("..").join("client-js");
    let mut files = Vec::new();
    for (sub, prefix) in [("demo", "demo"), ("src", "src")] {
        let dir = client.join(sub);
        // Cargo rescans a directory given here for any change inside it.
        println!("cargo:rerun-if-changed={}", dir.display());
        walk(&dir, prefix, &mut files);
    }
    println!("cargo:rerun-if-changed={}", client.display());
    let mut code = String::from("/// Files embedded at build time: (path under `/`, contents).\npub static EMBEDDED: &[(&str, &[u8])] = &[\n");
    for (rel, path) in &files {
        let abs = path.canonicalize().unwrap_or_else(|_| path.clone());
        code.push_str(&format!(
            "    ({:?}, include_bytes!({:?})),\n",
            rel,
            abs.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("embedded.rs");
    fs::write(out, code).expect("write embedded.rs");
}
