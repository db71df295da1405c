//! `cargo xtask modules`: the import graph between a crate's modules, and the circles in it.
//!
//! A module (a file under `src/`) imports another when its code names a path into it:
//! `crate::a::b`, `use crate::{a, b::c}`, or `super::x`. Each path counts for the deepest
//! module file it reaches, so `crate::licences::clock::TrustedClock` is an edge to
//! `licences/clock.rs`, not to `licences/mod.rs`. A parent imports a child it declares
//! (`mod x;`) when its code names a path through it (`x::f()`, `pub use x::T`); the
//! declaration alone is structure, not an import. Two kinds of reference are not edges:
//!
//! - the crate root (`lib.rs`), the facade every domain adds its `impl Core` block to: naming
//!   `crate::Core` is not an import of the domains the root declares;
//! - test modules (from `#[cfg(test)] mod tests` to the end of a file): tests may reach
//!   anywhere.
//!
//! A circle is a set of modules each reachable from every other (a strongly connected
//! component of more than one module). The check fails on any.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context, Result};

/// The crates whose modules must not import each other in a circle.
pub const CHECKED: &[&str] = &["crates/core/src", "crates/store/src"];

/// A crate's modules (`a::b`, the root as ``) and the modules each imports.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// Reads the module graph of the crate whose sources are in `src`.
pub fn graph(src: &Path) -> Result<Graph> {
    let mut sources = BTreeMap::new();
    collect(src, src, &mut sources)?;
    let mut graph = Graph::new();
    for (module, text) in &sources {
        let code = without_tests(text);
        let mut edges = BTreeSet::new();
        for path in references(module, &code) {
            if let Some(target) = deepest(&path, &sources) {
                if target != *module && !target.is_empty() {
                    edges.insert(target);
                }
            }
        }
        for name in declared_children(&code) {
            let child = join(module, &name);
            if sources.contains_key(&child) && !module.is_empty() && names_child(&code, &name) {
                edges.insert(child);
            }
        }
        graph.insert(module.clone(), edges);
    }
    Ok(graph)
}

/// The circles in a graph, each sorted, largest first.
pub fn circles(graph: &Graph) -> Vec<Vec<String>> {
    let mut tarjan = Tarjan {
        graph,
        next: 0,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for module in graph.keys() {
        if !tarjan.index.contains_key(module.as_str()) {
            tarjan.visit(module);
        }
    }
    let mut found: Vec<Vec<String>> = tarjan
        .found
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|mut c| {
            c.sort();
            c
        })
        .collect();
    found.sort_by_key(|c| std::cmp::Reverse(c.len()));
    found
}

/// Prints each checked crate's circles and fails if there is any; with `verbose`, every edge.
pub fn check(root: &Path, verbose: bool) -> Result<()> {
    let mut failed = Vec::new();
    for src in CHECKED {
        let graph = graph(&root.join(src))?;
        if verbose {
            for (module, edges) in &graph {
                let name = if module.is_empty() { "(root)" } else { module };
                let edges: Vec<&str> = edges.iter().map(String::as_str).collect();
                println!("{src}: {name} -> {}", edges.join(", "));
            }
        }
        let circles = circles(&graph);
        println!(
            "{src}: {} modules, {} imports, {} circles",
            graph.len(),
            graph.values().map(BTreeSet::len).sum::<usize>(),
            circles.len()
        );
        for circle in &circles {
            println!("  circle of {}: {}", circle.len(), circle.join(", "));
        }
        if !circles.is_empty() {
            failed.push(*src);
        }
    }
    if !failed.is_empty() {
        bail!(
            "modules import each other in a circle in {}: move what both sides need into a \
             module that imports neither",
            failed.join(", ")
        );
    }
    Ok(())
}

struct Tarjan<'a> {
    graph: &'a Graph,
    next: usize,
    index: BTreeMap<&'a str, usize>,
    low: BTreeMap<&'a str, usize>,
    stack: Vec<&'a str>,
    on_stack: BTreeSet<&'a str>,
    found: Vec<Vec<String>>,
}

impl<'a> Tarjan<'a> {
    fn visit(&mut self, v: &'a str) {
        self.index.insert(v, self.next);
        self.low.insert(v, self.next);
        self.next += 1;
        self.stack.push(v);
        self.on_stack.insert(v);
        for w in self.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !self.index.contains_key(w) {
                self.visit(w);
                let low = self.low[v].min(self.low[w]);
                self.low.insert(v, low);
            } else if self.on_stack.contains(w) {
                let low = self.low[v].min(self.index[w]);
                self.low.insert(v, low);
            }
        }
        if self.low[v] == self.index[v] {
            let mut component = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            self.found.push(component);
        }
    }
}

/// Every `.rs` file under `dir`, keyed by its module path from `src`.
fn collect(src: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(src, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(src)?.with_extension("");
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let module = match parts.as_slice() {
                [only] if only == "lib" || only == "main" => String::new(),
                [dirs @ .., last] if last == "mod" => dirs.join("::"),
                all => all.join("::"),
            };
            // Binaries under src/bin are crates of their own.
            if module.starts_with("bin::") || module == "bin" {
                continue;
            }
            out.insert(module, std::fs::read_to_string(&path)?);
        }
    }
    Ok(())
}

/// The code of a file without its test module and without comments.
fn without_tests(text: &str) -> String {
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    code.lines()
        .map(|l| match l.find("//") {
            Some(at) => &l[..at],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module paths (from the crate root) that `module`'s code names.
fn references(module: &str, code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let words = |s: &str| -> Vec<String> {
        s.split("::")
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric() && c != '_')
                    .to_owned()
            })
            .take_while(|w| !w.is_empty())
            .collect()
    };
    // `crate::a::b::C`, and each item of `use crate::{a::b, c}`.
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find("};").unwrap_or(group.len());
            for item in group[..end].split(',') {
                out.push(words(item.trim().trim_start_matches('{')));
            }
        } else {
            out.extend(with_group(words(path_prefix(rest)), rest, &words));
        }
    }
    // `super::x` from `a::b` names `a::x` (a `mod.rs` file is its folder's module, so its
    // parent is one level up as well).
    for (at, _) in code.match_indices("super::") {
        if at > 0 && code[..at].ends_with("::") {
            continue;
        }
        let mut parent: Vec<String> = module.split("::").map(str::to_owned).collect();
        parent.pop();
        let rest = &code[at + "super::".len()..];
        parent.extend(words(path_prefix(rest)));
        out.extend(with_group(parent, rest, &words));
    }
    out
}

/// `path` (the words of the leading path of `rest`), or, when that path goes on into a group
/// (`crate::a::{b, c::D}`, `super::{b, c}`), one path through each item of it: the group names
/// `a::b` and `a::c`, not `a` itself.
fn with_group(
    path: Vec<String>,
    rest: &str,
    words: &dyn Fn(&str) -> Vec<String>,
) -> Vec<Vec<String>> {
    let prefix = path_prefix(rest);
    let Some(group) = rest[prefix.len()..]
        .strip_prefix('{')
        .filter(|_| prefix.is_empty() || prefix.ends_with("::"))
    else {
        return vec![path];
    };
    let end = group.find('}').unwrap_or(group.len());
    group[..end]
        .split(',')
        .map(|item| {
            let mut through = path.clone();
            through.extend(words(item.trim()));
            through
        })
        .collect()
}

/// The leading `a::b::C` of a path, up to the first character that cannot be in one.
fn path_prefix(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The deepest module file a path reaches, if any.
fn deepest(path: &[String], sources: &BTreeMap<String, String>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| sources.contains_key(m))
}

/// The `mod x;` declarations of a file.
fn declared_children(code: &str) -> Vec<String> {
    code.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l
                .strip_prefix("pub(crate) ")
                .or_else(|| l.strip_prefix("pub "))
                .unwrap_or(l);
            l.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(|n| n.trim().to_owned())
        })
        .collect()
}

/// Whether code names a path through its child module `name` (`name::…`, not `a::name::…`).
fn names_child(code: &str, name: &str) -> bool {
    let needle = format!("{name}::");
    code.match_indices(&needle).any(|(at, _)| {
        !code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
    })
}

fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}::{child}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The graph of a crate made of `files`, written to a folder of this test's own (`name`:
    /// the tests run in parallel).
    fn graph_of(name: &str, files: &[(&str, &str)]) -> Graph {
        let dir = std::env::temp_dir().join(format!("xtask-modules-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let g = graph(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        g
    }

    #[test]
    fn a_group_inside_a_path_names_each_item_not_the_parent() {
        let g = graph_of(
            "inner-group",
            &[
                ("lib.rs", "mod a; pub struct Core;"),
                ("a/mod.rs", "mod b; mod c; mod d; pub use b::B;"),
                ("a/b.rs", "use crate::a::{c, d::D};\nuse super::{c::C};"),
                ("a/c.rs", "pub struct C;"),
                ("a/d.rs", "pub struct D;"),
            ],
        );
        assert_eq!(
            g["a::b"],
            BTreeSet::from(["a::c".to_owned(), "a::d".to_owned()]),
            "not a: {:?}",
            g["a::b"]
        );
        assert!(circles(&g).is_empty(), "{:?}", circles(&g));
    }

    #[test]
    fn finds_a_circle_through_paths_groups_and_super() {
        let g = graph_of(
            "circle",
            &[
                ("lib.rs", "mod a; mod b; mod c; mod d; pub struct Core;"),
                ("a.rs", "use crate::{b::Thing, Core};"),
                (
                    "b/mod.rs",
                    "pub mod inner;\npub use inner::X;\npub struct Thing;",
                ),
                ("d/mod.rs", "mod only_declared;\npub struct D;"),
                ("d/only_declared.rs", "use super::D;"),
                (
                    "b/inner.rs",
                    "fn f() { super::super::c::g() }\nuse super::Thing;",
                ),
                (
                    "c.rs",
                    "pub fn g() { crate::a::h(); }\n#[cfg(test)]\nmod tests { use crate::b; }",
                ),
            ],
        );
        assert_eq!(g["a"], BTreeSet::from(["b".to_owned()]));
        assert!(g["b"].contains("b::inner"));
        assert!(g["b::inner"].contains("b"));
        assert!(g[""].is_empty(), "the root is the facade: {:?}", g[""]);
        assert!(
            g["d"].is_empty(),
            "declaring is not importing: {:?}",
            g["d"]
        );
        // a -> b -> b::inner -> b; c -> a; the test module's import is not counted.
        assert_eq!(circles(&g), [vec!["b".to_owned(), "b::inner".to_owned()]]);
    }

    #[test]
    fn a_leaf_shared_by_two_domains_is_no_circle() {
        let g = graph_of(
            "leaf",
            &[
                ("lib.rs", "mod a; mod b; mod leaf;"),
                ("a.rs", "use crate::leaf::T; use crate::b::U;"),
                ("b.rs", "use crate::leaf::T; impl crate::Core {}"),
                ("leaf.rs", "pub struct T;"),
            ],
        );
        assert!(circles(&g).is_empty(), "{g:?}");
    }
}
