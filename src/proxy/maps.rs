//! Map files (`map*` converters) as shared, runtime-editable pattern references: every
//! converter naming the same file reads one [`MapFile`], and the runtime API's `show map`,
//! `add map`, `del map`, `set map`, `clear map` edit it. The request path only loads an
//! `Arc` snapshot (arc-swap); edits build a new list and swap it in.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use arc_swap::ArcSwap;

use crate::proxy::ctx::trim_blanks;

/// A map file's `(key, value)` lines as read.
pub type Pairs = Vec<(Box<[u8]>, Box<[u8]>)>;

/// Every map file loaded, by the path the configuration names.
type Registry = Mutex<HashMap<String, Arc<MapFile>>>;

/// One `key value` line, with the id `show map` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEntry {
    pub id: u64,
    pub key: Box<[u8]>,
    pub value: Box<[u8]>,
}

/// A map file's current entries.
#[derive(Debug)]
pub struct MapFile {
    pub path: String,
    entries: ArcSwap<Vec<MapEntry>>,
    next_id: AtomicU64,
}

impl MapFile {
    fn new(path: &str, pairs: Pairs) -> MapFile {
        let f = MapFile {
            path: path.to_string(),
            entries: ArcSwap::from_pointee(Vec::new()),
            next_id: AtomicU64::new(1),
        };
        let list = pairs
            .into_iter()
            .map(|(key, value)| MapEntry {
                id: f.id(),
                key,
                value,
            })
            .collect();
        f.entries.store(Arc::new(list));
        f
    }

    fn id(&self) -> u64 {
        // distinct, pointer-looking ids for `show map`
        0x5500_0000 + 0x40 * self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The current entries (a cheap snapshot).
    pub fn entries(&self) -> arc_swap::Guard<Arc<Vec<MapEntry>>> {
        self.entries.load()
    }

    fn edit(&self, f: impl FnOnce(&mut Vec<MapEntry>)) {
        let mut list = (**self.entries.load()).clone();
        f(&mut list);
        self.entries.store(Arc::new(list));
    }

    /// `add map`: appends an entry.
    pub fn add(&self, key: &[u8], value: &[u8]) {
        let e = MapEntry {
            id: self.id(),
            key: key.into(),
            value: value.into(),
        };
        self.edit(|l| l.push(e));
    }

    /// `del map`: removes every entry with this key; false if there was none.
    pub fn del(&self, key: &[u8]) -> bool {
        let mut found = false;
        self.edit(|l| {
            let before = l.len();
            l.retain(|e| &*e.key != key);
            found = l.len() != before;
        });
        found
    }

    /// `set map`: changes the value of every entry with this key; false if there was none.
    pub fn set(&self, key: &[u8], value: &[u8]) -> bool {
        let mut found = false;
        self.edit(|l| {
            for e in l.iter_mut().filter(|e| &*e.key == key) {
                e.value = value.into();
                found = true;
            }
        });
        found
    }

    /// `clear map`.
    pub fn clear(&self) {
        self.edit(|l| l.clear());
    }

    /// `show map FILE`: `0xID key value` lines.
    pub fn show(&self) -> String {
        let mut out = String::new();
        for e in self.entries().iter() {
            out.push_str(&format!(
                "{:#x} {} {}\n",
                e.id,
                String::from_utf8_lossy(&e.key),
                String::from_utf8_lossy(&e.value)
            ));
        }
        out
    }
}

fn registry() -> &'static Registry {
    static MAPS: OnceLock<Registry> = OnceLock::new();
    MAPS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Parses a map file's text: `key value` per line, `#` comments, blank lines ignored.
pub fn parse(text: &[u8]) -> Pairs {
    let mut entries = Vec::new();
    for line in text.split(|&c| c == b'\n') {
        let l = trim_blanks(line.strip_suffix(b"\r").unwrap_or(line));
        if l.is_empty() || l[0] == b'#' {
            continue;
        }
        let sp = l
            .iter()
            .position(|&c| c == b' ' || c == b'\t')
            .unwrap_or(l.len());
        entries.push((l[..sp].into(), trim_blanks(&l[sp..]).into()));
    }
    entries
}

/// The shared map of `path`, read from disk the first time it is named.
pub fn load(path: &str) -> std::io::Result<Arc<MapFile>> {
    let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = reg.get(path) {
        return Ok(m.clone());
    }
    let text = std::fs::read(path)?;
    let m = Arc::new(MapFile::new(path, parse(&text)));
    reg.insert(path.to_string(), m.clone());
    Ok(m)
}

/// A map already loaded by the configuration (the runtime API edits only those).
pub fn find(path: &str) -> Option<Arc<MapFile>> {
    registry()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(path)
        .cloned()
}

/// The runtime API's map commands (`words` after the verb's `map`), None when `verb` is not one.
/// `payload`: the lines after a `<<` (one `key value` per line).
pub fn cli(verb: &str, words: &[&str], payload: Option<&str>) -> Option<String> {
    let unknown = |f: &str| format!("Unknown map identifier '{f}'. Please use #<id> or <file>.\n");
    let file = words.first().copied();
    Some(match (verb, file) {
        ("show", None) => {
            let reg = registry().lock().unwrap_or_else(|e| e.into_inner());
            let mut names: Vec<&String> = reg.keys().collect();
            names.sort();
            let mut out = String::from("# id (file) description\n");
            for (i, n) in names.iter().enumerate() {
                out.push_str(&format!("{i} ({n}) pattern loaded from file '{n}'\n"));
            }
            out
        }
        (_, None) => "'map' expects a map file name.\n".into(),
        (v, Some(f)) => {
            let Some(m) = find(f) else {
                return Some(unknown(f));
            };
            match (v, &words[1..]) {
                ("show", _) => m.show(),
                ("clear", _) => {
                    m.clear();
                    String::new()
                }
                ("add", [k, v]) => {
                    m.add(k.as_bytes(), v.as_bytes());
                    String::new()
                }
                ("add", []) if payload.is_some() => {
                    for (k, v) in parse(payload.unwrap_or("").as_bytes()) {
                        m.add(&k, &v);
                    }
                    String::new()
                }
                ("add", _) => {
                    "'add map' expects three parameters: map identifier, key and value.\n".into()
                }
                ("del", [k]) => {
                    if m.del(k.as_bytes()) {
                        String::new()
                    } else {
                        "Key not found.\n".into()
                    }
                }
                ("del", _) => {
                    "This command expects two parameters: map identifier and key.\n".into()
                }
                ("set", [k, v]) => {
                    if m.set(k.as_bytes(), v.as_bytes()) {
                        String::new()
                    } else {
                        "entry not found.\n".into()
                    }
                }
                ("set", _) => {
                    "'set map' expects three parameters: map identifier, key and value.\n".into()
                }
                _ => return None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_are_seen_by_every_user_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.map");
        std::fs::write(&p, "# c\na 1\nb\t2\n\n").unwrap();
        let path = p.to_str().unwrap();
        let m1 = load(path).unwrap();
        let m2 = load(path).unwrap();
        assert_eq!(m1.entries().len(), 2);
        assert_eq!(cli("add", &[path, "c", "3"], None), Some(String::new()));
        assert_eq!(cli("del", &[path, "a"], None), Some(String::new()));
        assert_eq!(
            cli("del", &[path, "zz"], None).as_deref(),
            Some("Key not found.\n")
        );
        cli("add", &[path], Some("d 4\ne 5\n"));
        let keys: Vec<Vec<u8>> = m2.entries().iter().map(|e| e.key.to_vec()).collect();
        assert_eq!(
            keys,
            vec![b"b".to_vec(), b"c".to_vec(), b"d".to_vec(), b"e".to_vec()]
        );
        assert!(m2.show().lines().all(|l| l.starts_with("0x")));
        cli("clear", &[path], None);
        assert_eq!(m1.show(), "");
        assert!(cli("show", &["/nope"], None).is_some_and(|s| s.starts_with("Unknown map")));
    }
}
