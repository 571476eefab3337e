//! The layering of docs/ARCHITECTURE.md ("Layering"), checked on the source: what a room may not import.

use std::path::{Path, PathBuf};

/// Rooms from the ground up; a room may import only rooms at its own level or below.
const LEVELS: &[(&str, u8)] = &[
    ("exit", 0),
    ("suggest", 0),
    ("cli", 0),
    ("child", 0),
    ("ui", 0),
    ("json", 1),
    ("credentials", 1),
    ("probe", 1),
    ("config", 1),
    ("lookup", 1),
    ("demo_server", 1),
    ("handoff", 2),
    ("native", 2),
    ("integrate", 2),
    ("signing", 2),
    ("publisher", 3),
    ("output", 2),
    ("pipeline", 3),
    ("session", 4),
    ("exporter", 4),
    ("commands", 5),
    ("demo", 6),
    ("entry", 7),
];

fn level(room: &str) -> Option<u8> {
    LEVELS.iter().find(|(r, _)| *r == room).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("source dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The rooms a file names as `crate::ROOM`.
fn imports(text: &str) -> Vec<String> {
    text.match_indices("crate::")
        .map(|(i, m)| {
            text[i + m.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .collect()
}

#[test]
fn no_room_imports_a_room_above_it_and_no_command_imports_another() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut bad = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let room = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_owned())
            .unwrap_or_default();
        if matches!(room.as_str(), "lib" | "main" | "layering") {
            continue;
        }
        let Some(mine) = level(&room) else {
            bad.push(format!("{}: room `{room}` is not in LEVELS", rel.display()));
            continue;
        };
        let text = std::fs::read_to_string(f).expect("read");
        for other in imports(&text) {
            if let Some(theirs) = level(&other)
                && theirs > mine
            {
                bad.push(format!(
                    "{}: `{room}` imports `{other}`, a room above it",
                    rel.display()
                ));
            }
        }
        // Command modules share only what commands/common.rs holds; no command imports another.
        if room == "commands" && rel.file_name().is_some_and(|n| n != "mod.rs" && n != "common.rs") {
            let me = rel.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            for (i, m) in text.match_indices("super::") {
                let name: String = text[i + m.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if name != me && name != "common" && src.join("commands").join(format!("{name}.rs")).is_file()
                {
                    bad.push(format!(
                        "{}: command `{me}` imports command `{name}`",
                        rel.display()
                    ));
                }
            }
            if text.contains("crate::commands::") {
                bad.push(format!("{}: a command names crate::commands", rel.display()));
            }
        }
    }
    assert!(bad.is_empty(), "layering broken:\n{}", bad.join("\n"));
}
