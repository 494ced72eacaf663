//! The layers that `src/lib.rs` states, checked against the code: a module imports only from
//! its own layer and the layers below it, and no two files import each other, directly or
//! around a circle.
//!
//! The layers are read from the map in `src/lib.rs` (its numbered list), so the map and this
//! check cannot drift apart. The imports are read from every file of the crate, the lessons'
//! included: each path that starts `crate::`, `$crate::` or `super::`, outside comments and
//! unit tests (a test may reach anything), is the file of the longest module it names; a
//! macro (`crate::note!`) is the file that defines it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Imports that break the rules today, each with the change that removes it. When that change
/// lands, its lines here must go: the test fails on an exception that no longer occurs.
const KNOWN: &[(&str, &str)] = &[];

/// One source file of the crate: its module path (`runtime::context`) and its text.
struct File {
    path: String,
    module: String,
    text: String,
}

/// One import: the file's line number and the module path it names (as written, resolved).
struct Import {
    line: usize,
    names: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            // A lesson's `code/` holds the programs `cargo run --example` runs: not the crate.
            if path.file_name().is_some_and(|name| name == "code") {
                continue;
            }
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The module a file is: `src/runtime/event/mod.rs` is `runtime::event`; a lesson's
/// `outcomes.rs` is part of `outcomes`, the rest of its folder part of `lessons`.
fn module_of(relative: &str) -> Option<String> {
    if let Some(rest) = relative.strip_prefix("lessons/") {
        let folder = rest.split('/').next()?;
        let slug = folder.replace('-', "_");
        return Some(if rest.ends_with("/outcomes.rs") {
            format!("outcomes::{slug}")
        } else {
            format!("lessons::{slug}")
        });
    }
    let rest = relative.strip_prefix("src/")?.strip_suffix(".rs")?;
    let rest = rest.strip_suffix("/mod").unwrap_or(rest);
    match rest {
        // The crate's roots declare modules; they import nothing the way modules do.
        "lib" | "main" => None,
        _ => Some(rest.replace('/', "::")),
    }
}

fn files() -> Vec<File> {
    let mut paths = Vec::new();
    rust_files(&root().join("src"), &mut paths);
    rust_files(&root().join("lessons"), &mut paths);
    paths
        .into_iter()
        .filter_map(|path| {
            let relative = path
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let module = module_of(&relative)?;
            let text = fs::read_to_string(&path).unwrap();
            Some(File {
                path: relative,
                module,
                text,
            })
        })
        .collect()
}

/// The layers of `src/lib.rs`'s map, bottom first: its lines `//! N. `a`, `b`: ...`, each the
/// modules named in backquotes.
fn layers() -> Vec<Vec<String>> {
    let lib = fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let named = |text: &str| -> Vec<String> {
        text.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let mut layers: Vec<Vec<String>> = Vec::new();
    let mut in_item = false;
    for line in lib.lines() {
        let Some(item) = line.strip_prefix("//! ") else {
            in_item = false;
            continue;
        };
        // An item's text goes on in lines indented under it.
        if in_item && item.starts_with("   ") {
            layers.last_mut().unwrap().extend(named(item));
            continue;
        }
        in_item = false;
        let Some((number, rest)) = item.split_once(". ") else {
            continue;
        };
        if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        in_item = true;
        assert_eq!(
            number.parse::<usize>().unwrap(),
            layers.len() + 1,
            "src/lib.rs numbers its layers 1, 2, 3 ... in order: {line}"
        );
        let modules = named(rest);
        assert!(!modules.is_empty(), "a layer without modules: {line}");
        layers.push(modules);
    }
    assert!(
        layers.len() >= 5,
        "src/lib.rs should list its layers as `//! 1. `module`, ...`"
    );
    layers
}

/// The layer of a module: that of the longest module path in the map that it is or is inside.
fn layer_of(module: &str, layers: &[Vec<String>]) -> Option<usize> {
    let inside = |named: &str| module == named || module.starts_with(&format!("{named}::"));
    layers
        .iter()
        .enumerate()
        .flat_map(|(index, modules)| modules.iter().map(move |m| (index, m)))
        .filter(|(_, named)| inside(named))
        .max_by_key(|(_, named)| named.len())
        .map(|(index, _)| index)
}

fn is_identifier(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The lines of a file that are code: not comments, and not its unit tests (`#[cfg(test)]`
/// followed by `mod`, by convention the end of the file).
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut code = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed == "#[cfg(test)]"
            && lines
                .get(index + 1)
                .is_some_and(|next| next.trim_start().starts_with("mod "))
        {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        code.push((index + 1, *line));
    }
    code
}

/// Every module path the file names: `crate::runtime::event::{Event, Kind}` names
/// `runtime::event::Event` (resolved later to its longest module), `super::thread::Shared` in
/// `threading::current` names `threading::thread::Shared`.
fn imports(file: &File) -> Vec<Import> {
    let parent = file
        .module
        .rsplit_once("::")
        .map_or("", |(parent, _)| parent);
    let mut found = Vec::new();
    for (number, line) in code_lines(&file.text) {
        for (start, _) in line
            .match_indices("crate::")
            .chain(line.match_indices("super::"))
        {
            let before = line[..start].chars().last();
            if before.is_some_and(|c| is_identifier(c) || c == ':') {
                continue;
            }
            let keyword_end = line[start..].find("::").unwrap() + start + 2;
            let path: String = line[keyword_end..]
                .chars()
                .take_while(|&c| is_identifier(c) || c == ':')
                .collect();
            let path = path.trim_end_matches(':');
            let names = if line[start..].starts_with("super::") {
                if parent.is_empty() {
                    path.to_string()
                } else {
                    format!("{parent}::{path}")
                }
            } else {
                path.to_string()
            };
            found.push(Import {
                line: number,
                names,
            });
        }
    }
    found
}

/// `#[macro_export]` macros by name, and the module that defines each.
fn macros(files: &[File]) -> BTreeMap<String, String> {
    let mut defined = BTreeMap::new();
    for file in files {
        let mut exported = false;
        for line in file.text.lines() {
            let line = line.trim();
            if line == "#[macro_export]" {
                exported = true;
            } else if let Some(rest) = line.strip_prefix("macro_rules! ") {
                if exported {
                    let name: String = rest.chars().take_while(|&c| is_identifier(c)).collect();
                    defined.insert(name, file.module.clone());
                }
                exported = false;
            }
        }
    }
    defined
}

/// The module (a file) that a path names: the longest of its prefixes that is a file's
/// module, or the module defining the macro it names.
fn resolve(
    names: &str,
    modules: &BTreeSet<String>,
    macros: &BTreeMap<String, String>,
) -> Option<String> {
    let segments: Vec<&str> = names.split("::").filter(|s| !s.is_empty()).collect();
    for length in (1..=segments.len()).rev() {
        let candidate = segments[..length].join("::");
        if modules.contains(&candidate) {
            return Some(candidate);
        }
    }
    segments
        .first()
        .and_then(|first| macros.get(*first).cloned())
}

/// Every import as (importing file, line, imported module), known exceptions left out; and
/// the known exceptions that no longer occur.
struct Graph {
    edges: Vec<(String, usize, String)>,
    exceptions_seen: BTreeSet<(String, String)>,
    module_files: BTreeMap<String, String>,
}

fn graph(files: &[File]) -> Graph {
    let modules: BTreeSet<String> = files.iter().map(|f| f.module.clone()).collect();
    let module_files: BTreeMap<String, String> = files
        .iter()
        .map(|f| (f.module.clone(), f.path.clone()))
        .collect();
    let macros = macros(files);
    let mut edges = Vec::new();
    let mut exceptions_seen = BTreeSet::new();
    for file in files {
        for import in imports(file) {
            let Some(target) = resolve(&import.names, &modules, &macros) else {
                continue;
            };
            if target == file.module {
                continue;
            }
            let known = KNOWN
                .iter()
                .find(|(from, to)| *from == file.path && *to == target);
            if let Some(&(from, to)) = known {
                exceptions_seen.insert((from.to_string(), to.to_string()));
                continue;
            }
            edges.push((file.path.clone(), import.line, target));
        }
    }
    Graph {
        edges,
        exceptions_seen,
        module_files,
    }
}

#[test]
fn every_module_has_a_layer_and_imports_only_its_own_layer_and_those_below() {
    let layers = layers();
    let files = files();
    let mut wrong = Vec::new();
    for file in &files {
        if layer_of(&file.module, &layers).is_none() {
            wrong.push(format!(
                "{}: module `{}` is in no layer: name it in the map of src/lib.rs",
                file.path, file.module
            ));
        }
    }
    let graph = graph(&files);
    let module_of_file: BTreeMap<&str, &str> = files
        .iter()
        .map(|f| (f.path.as_str(), f.module.as_str()))
        .collect();
    for (path, line, target) in &graph.edges {
        let from = module_of_file[path.as_str()];
        let (Some(own), Some(theirs)) = (layer_of(from, &layers), layer_of(target, &layers)) else {
            continue;
        };
        if theirs > own {
            wrong.push(format!(
                "{path}:{line}: `{from}` (layer {}) imports `{target}` (layer {}), above it",
                own + 1,
                theirs + 1
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "the layers of src/lib.rs are not kept:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let files = files();
    let graph = graph(&files);
    let mut next: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (path, _, target) in &graph.edges {
        next.entry(path.as_str())
            .or_default()
            .insert(graph.module_files[target].as_str());
    }
    let circles = circles(&next);
    let described: Vec<String> = circles
        .iter()
        .map(|circle| {
            let ties: Vec<String> = graph
                .edges
                .iter()
                .filter(|(path, _, target)| {
                    circle.contains(path.as_str())
                        && circle.contains(graph.module_files[target].as_str())
                })
                .map(|(path, line, target)| format!("  {path}:{line} imports `{target}`"))
                .collect();
            format!(
                "{}\n{}",
                circle.iter().copied().collect::<Vec<_>>().join(", "),
                ties.join("\n")
            )
        })
        .collect();
    assert!(
        circles.is_empty(),
        "files that import each other in a circle:\n{}",
        described.join("\n")
    );
}

#[test]
fn every_known_exception_still_occurs() {
    let graph = graph(&files());
    let gone: Vec<String> = KNOWN
        .iter()
        .filter(|(from, to)| {
            !graph
                .exceptions_seen
                .contains(&(from.to_string(), to.to_string()))
        })
        .map(|(from, to)| format!("{from} -> {to}"))
        .collect();
    assert!(
        gone.is_empty(),
        "these imports are gone: take them off KNOWN in tests/layers.rs:\n{}",
        gone.join("\n")
    );
}

/// The strongly connected components of more than one file (Tarjan's algorithm): each is a
/// set of files every one of which reaches every other.
fn circles<'a>(next: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<BTreeSet<&'a str>> {
    struct Search<'a, 'g> {
        next: &'g BTreeMap<&'a str, BTreeSet<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<BTreeSet<&'a str>>,
    }
    impl<'a> Search<'a, '_> {
        fn visit(&mut self, node: &'a str) {
            let number = self.index.len();
            self.index.insert(node, number);
            self.low.insert(node, number);
            self.stack.push(node);
            self.on_stack.insert(node);
            for &to in self.next.get(node).into_iter().flatten() {
                if !self.index.contains_key(to) {
                    self.visit(to);
                    let low = self.low[node].min(self.low[to]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(to) {
                    let low = self.low[node].min(self.index[to]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = BTreeSet::new();
                loop {
                    let member = self.stack.pop().unwrap();
                    self.on_stack.remove(member);
                    component.insert(member);
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut search = Search {
        next,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for &node in next.keys() {
        if !search.index.contains_key(node) {
            search.visit(node);
        }
    }
    search.found
}

/// The check itself can fail: an import up the layers and a circle, made up, are found.
#[test]
fn the_check_finds_an_import_up_the_layers_and_a_circle() {
    let layers = vec![vec!["low".to_string()], vec!["high".to_string()]];
    let low = File {
        path: "src/low.rs".to_string(),
        module: "low".to_string(),
        text: "use crate::high::Thing;\n// use crate::nothing;\n".to_string(),
    };
    let high = File {
        path: "src/high.rs".to_string(),
        module: "high".to_string(),
        text: "fn f() { crate::low::g() }\n#[cfg(test)]\nmod tests {\n use crate::x; }\n"
            .to_string(),
    };
    let files = [low, high];
    let graph = graph(&files);
    assert_eq!(
        graph.edges,
        vec![
            ("src/low.rs".to_string(), 1, "high".to_string()),
            ("src/high.rs".to_string(), 1, "low".to_string()),
        ]
    );
    assert!(layer_of("high", &layers) > layer_of("low", &layers));
    assert_eq!(layer_of("low::inner", &layers), Some(0));
    let next: BTreeMap<&str, BTreeSet<&str>> = [
        ("src/low.rs", BTreeSet::from(["src/high.rs"])),
        ("src/high.rs", BTreeSet::from(["src/low.rs"])),
    ]
    .into();
    assert_eq!(
        circles(&next),
        vec![BTreeSet::from(["src/high.rs", "src/low.rs"])]
    );
}
