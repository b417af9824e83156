//! The server's layering, checked mechanically: every module of `src/` imports only modules
//! below it in [`LAYERS`] (so there can be no import cycle), and the room's pure state
//! machine never touches tokio. `docs/architecture.md` shows the same list.
//!
//! What counts as an import: any `crate::<module>` path and, inside `src/room/`, any
//! `super::<module>` path, in code outside `#[cfg(test)]` modules (tests may reach anywhere)
//! and outside comments (doc links are not dependencies).

use std::collections::HashMap;
use std::path::Path;

/// Bottom first: each module may use only the ones before it. The `room::*` entries are the
/// room's own files; `room` is `room/mod.rs`, the facade that re-exports them.
const LAYERS: &[(&str, &str)] = &[
    ("protocol", "protocol.rs"),
    ("error", "error.rs"),
    ("clock", "clock.rs"),
    ("config", "config.rs"),
    ("metrics", "metrics.rs"),
    ("shutdown", "shutdown.rs"),
    ("static_files", "static_files.rs"),
    ("outbound", "outbound.rs"),
    ("room::playback", "room/playback.rs"),
    ("room::record", "room/record.rs"),
    ("room::rights", "room/rights.rs"),
    ("room::ready", "room/ready.rs"),
    ("room::queue", "room/queue.rs"),
    ("room::waiting", "room/waiting.rs"),
    ("room::members", "room/members.rs"),
    ("room::seats", "room/seats.rs"),
    ("room::params", "room/params.rs"),
    ("room::api", "room/api.rs"),
    ("room::actor", "room/actor.rs"),
    ("room", "room/mod.rs"),
    ("durable", "durable.rs"),
    ("rooms", "rooms.rs"),
    ("relay", "relay.rs"),
    ("shared", "shared.rs"),
    ("sessions", "sessions.rs"),
    ("app", "app.rs"),
    ("socket", "socket.rs"),
    ("handshake", "handshake.rs"),
    ("connection", "connection.rs"),
    ("routes", "routes.rs"),
    ("server", "server.rs"),
    ("lib", "lib.rs"),
];

/// The room's pure state machine: plain structs and functions, time as an argument.
const PURE: &[&str] = &[
    "room::playback",
    "room::record",
    "room::rights",
    "room::ready",
    "room::queue",
    "room::waiting",
    "room::members",
    "room::seats",
];

/// The file's code without comments and without its `#[cfg(test)] mod tests { … }` tail.
fn production_code(text: &str) -> String {
    let body = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    body.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_after(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// Modules that `code` (of module `me`) refers to.
fn imports(me: &str, code: &str, known: &HashMap<&str, usize>) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |path: String| {
        if known.contains_key(path.as_str()) && path != me {
            out.push(path);
        }
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let first = ident_after(rest);
        if first == "room" {
            let sub = rest[first.len()..].strip_prefix("::").map(ident_after);
            match sub {
                Some(s) if known.contains_key(format!("room::{s}").as_str()) => {
                    add(format!("room::{s}"))
                }
                _ => add("room".into()),
            }
        } else {
            add(first.to_string());
        }
    }
    if me.starts_with("room::") {
        for (i, _) in code.match_indices("super::") {
            let s = ident_after(&code[i + "super::".len()..]);
            if known.contains_key(format!("room::{s}").as_str()) {
                add(format!("room::{s}"));
            } else {
                add("room".into());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rank: HashMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .map(|(i, (m, _))| (*m, i))
        .collect();
    // Every module the crate declares is in the list, so a new module has to be given its
    // place (a file that no `mod` declares is not compiled, and not checked).
    let mut listed: Vec<&str> = LAYERS.iter().map(|(_, f)| *f).collect();
    listed.sort();
    let mut found = vec!["lib.rs".to_string(), "room/mod.rs".to_string()];
    for (parent, dir) in [("lib.rs", ""), ("room/mod.rs", "room/")] {
        let text = std::fs::read_to_string(src.join(parent)).unwrap();
        for line in text.lines() {
            let line = line.trim();
            if let Some(name) = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("mod "))
                .and_then(|r| r.strip_suffix(';'))
            {
                let file = if name == "room" {
                    "room/mod.rs".to_string()
                } else {
                    format!("{dir}{name}.rs")
                };
                found.push(file);
            }
        }
    }
    found.sort();
    found.dedup();
    assert_eq!(
        found, listed,
        "the modules declared in src/ and LAYERS differ"
    );

    let mut wrong = Vec::new();
    for (me, file) in LAYERS {
        let code = production_code(&std::fs::read_to_string(src.join(file)).unwrap());
        for dep in imports(me, &code, &rank) {
            if rank[dep.as_str()] >= rank[me] {
                wrong.push(format!(
                    "{me} ({file}) imports {dep}, which is not below it"
                ));
            }
        }
        if PURE.contains(me) && code.contains("tokio") {
            wrong.push(format!("{me} ({file}) is pure but mentions tokio"));
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn the_checker_sees_upward_imports() {
    // The check itself must be able to fail: an upward `use` and a `super::` path are seen.
    let rank: HashMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .map(|(i, (m, _))| (*m, i))
        .collect();
    let code = production_code(
        "use crate::server::App;\nuse crate::room::Cmd; // crate::routes\nfn f() { super::actor::run_room }\n#[cfg(test)]\nmod tests { use crate::connection; }",
    );
    assert_eq!(
        imports("room::seats", &code, &rank),
        vec!["room", "room::actor", "server"]
    );
}
