//! The crate's layering, checked from its sources: lower layers never name
//! HTTP types, top-level modules depend downwards only (the order written
//! in `src/lib.rs`), and no two sibling modules depend on each other,
//! directly or through others.
//!
//! Dependencies are the paths a file names (`crate::a::b`, `super::c`,
//! `use crate::{a, b::c}`), resolved to the longest module they start with.
//! Method calls are not seen, so a child's calls into its parent are not
//! counted: only modules side by side under one parent are checked for
//! circles, which is where a circle means two modules that should be one,
//! or a third one missing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every module of the crate with the text of its file, comments removed.
fn modules() -> BTreeMap<Module, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
        .into_iter()
        .filter_map(|path: PathBuf| {
            let rel = path.strip_prefix(&root).unwrap().with_extension("");
            let mut module: Module = rel.iter().map(|s| s.to_string_lossy().into()).collect();
            match module.last().map(String::as_str) {
                Some("mod") => drop(module.pop()),
                Some("lib") if module.len() == 1 => module.clear(),
                // The binary's own root is no part of the library's layers.
                Some("main") if module.len() == 1 => return None,
                _ => {}
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code: Vec<&str> = text
                .lines()
                .map(|l| l.split("//").next().unwrap())
                .collect();
            Some((module, code.join("\n")))
        })
        .collect()
}

fn ident_len(text: &str) -> usize {
    text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len())
}

/// The paths named in `code` by `crate::` or `super::`, as segments from the
/// crate root (for `super`, relative to `module`). A `{…}` list yields one
/// path per entry, as far as its first segment.
fn named_paths(module: &Module, code: &str) -> Vec<Module> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = code[at..].find(['c', 's']) {
        let start = at + offset;
        at = start + 1;
        let before = code[..start].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut rest = &code[start..];
        let mut base: Module = if let Some(r) = rest.strip_prefix("crate::") {
            rest = r;
            Vec::new()
        } else if rest.starts_with("super::") {
            let mut base = module.clone();
            while let Some(r) = rest.strip_prefix("super::") {
                base.pop();
                rest = r;
            }
            base
        } else {
            continue;
        };
        loop {
            let len = ident_len(rest);
            if len > 0 {
                base.push(rest[..len].to_owned());
                rest = &rest[len..];
                match rest.strip_prefix("::") {
                    Some(r) => rest = r,
                    None => break found.push(base),
                }
            } else if let Some(list) = rest.strip_prefix('{') {
                let list = &list[..list.find('}').unwrap_or(list.len())];
                for entry in list.split([',', '{']) {
                    let entry = entry.trim();
                    let len = ident_len(entry);
                    if len > 0 {
                        let mut path = base.clone();
                        path.push(entry[..len].to_owned());
                        found.push(path);
                    }
                }
                break;
            } else {
                break found.push(base);
            }
        }
    }
    found
}

/// Module-to-module dependencies, each resolved to the longest module the
/// path names.
fn dependencies() -> BTreeSet<(Module, Module)> {
    let modules = modules();
    let mut edges = BTreeSet::new();
    for (module, code) in &modules {
        for path in named_paths(module, code) {
            let target = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|prefix| modules.contains_key(prefix))
                .unwrap();
            if &target != module {
                edges.insert((module.clone(), target));
            }
        }
    }
    edges
}

#[test]
fn lower_layers_never_name_http_types() {
    let lower = [
        "chat",
        "events",
        "knowledge",
        "tools",
        "outbound",
        "signing",
        "store",
        "domain",
        "llm",
        "auth",
        "limits",
    ];
    let banned = [
        "crate::http",
        "axum",
        "crate::error",
        "ApiError",
        "crate::app",
        "crate::cli",
    ];
    let mut found = Vec::new();
    for (module, code) in modules() {
        if !module
            .first()
            .is_some_and(|top| lower.contains(&top.as_str()))
        {
            continue;
        }
        for word in banned.iter().filter(|word| code.contains(*word)) {
            found.push(format!("{} names {word}", module.join("::")));
        }
    }
    assert!(
        found.is_empty(),
        "lower layers naming the HTTP edge: {found:#?}"
    );
}

#[test]
fn top_level_modules_depend_downwards_only() {
    // `src/lib.rs`'s diagram: each layer may use the ones below it only;
    // the use cases (rank 3) are independent of one another, and use the
    // knowledge base below them.
    let rank = |name: &str| match name {
        "domain" => 0,
        "store" | "llm" | "outbound" | "signing" => 1,
        "knowledge" | "tools" => 2,
        "auth" | "chat" | "events" | "limits" => 3,
        "app" => 4,
        "error" => 5,
        "http" => 6,
        "cli" => 7,
        other => panic!("{other} is not in src/lib.rs's layering: add it there and here"),
    };
    let mut upwards = Vec::new();
    for (from, to) in dependencies() {
        let (Some(from), Some(to)) = (from.first(), to.first()) else {
            continue;
        };
        if from != to && rank(from) <= rank(to) {
            upwards.push(format!("{from} -> {to}"));
        }
    }
    assert!(
        upwards.is_empty(),
        "dependencies against the layering: {upwards:#?}"
    );
}

#[test]
fn sibling_modules_form_no_circle() {
    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (from, to) in dependencies() {
        let shared = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
        // A module and one of its ancestors: not siblings.
        if shared == from.len() || shared == to.len() {
            continue;
        }
        let (from, to) = (from[..=shared].to_vec(), to[..=shared].to_vec());
        graph.entry(from).or_default().insert(to);
    }
    // A module reaching itself through its dependencies is on a circle.
    let mut circles = Vec::new();
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&Module> = graph[start].iter().collect();
        while let Some(next) = stack.pop() {
            if next == start {
                circles.push(start.join("::"));
                break;
            }
            if seen.insert(next) {
                stack.extend(graph.get(next).into_iter().flatten());
            }
        }
    }
    assert!(
        circles.is_empty(),
        "modules on an import circle: {circles:#?}"
    );
}
