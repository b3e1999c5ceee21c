//! The check of a log file written by `xfunc_log` (chapter 13), which the cluster tests make
//! of every file their cases write. Every line is
//! `<YYYY-MM-DDTHH:MM:SS.ffffffZ> <pid> <seq> <message>` with no control character in the
//! message (they are escaped); the file ends with a newline (it holds only whole lines); the
//! sequence numbers are 1, 2, ... in file order, each exactly once, no gap; the timestamps never
//! go backwards; and what `Expect` asks holds. Its tests (tests/checkers.rs) show that it
//! refuses each of those faults.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What a log file must hold besides whole, well-formed lines.
#[derive(Default)]
pub struct Expect {
    /// Exactly this many lines.
    pub lines: Option<usize>,
    /// At least this many lines.
    pub min_lines: Option<usize>,
    /// The pgbench messages "pgbench client <id>: ..." come from exactly this many clients, this
    /// many lines each.
    pub clients: Option<(usize, usize)>,
}

impl Expect {
    /// Exactly `n` lines.
    pub fn lines(n: usize) -> Expect {
        Expect {
            lines: Some(n),
            ..Expect::default()
        }
    }
}

/// Checks the log file at `path`; returns what it found, in one line, or that line and the
/// faults it found.
pub fn check_log_file(path: &Path, expect: &Expect) -> Result<String, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    check_log(&path.display().to_string(), &data, expect)
}

/// The same for the contents `data` of a file named `name`.
pub fn check_log(name: &str, data: &[u8], expect: &Expect) -> Result<String, String> {
    let mut problems = Vec::new();
    let whole = data.strip_suffix(b"\n");
    if !data.is_empty() && whole.is_none() {
        problems.push("the file does not end with a newline".to_owned());
    }
    let lines: Vec<&[u8]> = match whole {
        Some(whole) => whole.split(|&b| b == b'\n').collect(),
        None if data.is_empty() => Vec::new(),
        None => data.split(|&b| b == b'\n').collect(),
    };
    let found = check_lines(&lines, &mut problems);
    check_expected(lines.len(), &found.clients, expect, &mut problems);
    let mut summary = format!(
        "{name}: {} lines, sequence 1..{}, {} pids",
        lines.len(),
        lines.len(),
        found.pids.len()
    );
    let clients = &found.clients;
    if let (Some(min), Some(max)) = (clients.values().min(), clients.values().max()) {
        summary += &format!(", {} pgbench clients x {min}..{max} lines", clients.len());
    }
    if problems.is_empty() {
        Ok(summary)
    } else {
        Err(format!("{summary}\n  {}", problems.join("\n  ")))
    }
}

/// What the lines of a file came from.
struct Found {
    pids: BTreeSet<u64>,
    /// Lines per pgbench client id.
    clients: BTreeMap<u64, usize>,
}

/// Checks each line's form, sequence number and timestamp; stops after ten problems.
fn check_lines(lines: &[&[u8]], problems: &mut Vec<String>) -> Found {
    let mut found = Found {
        pids: BTreeSet::new(),
        clients: BTreeMap::new(),
    };
    let mut last_timestamp: &[u8] = b"";
    for (n, line) in lines.iter().enumerate() {
        let n = n + 1;
        let Some((timestamp, pid, seq, message)) = parse_line(line) else {
            let start = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
            problems.push(format!("line {n} is malformed: {start:?}"));
            continue;
        };
        if seq != n as u64 {
            problems.push(format!("line {n} has sequence number {seq}, not {n}"));
        }
        if timestamp < last_timestamp {
            problems.push(format!("line {n}: timestamp goes backwards"));
        }
        if message.iter().any(|&b| b < 0x20 || b == 0x7f) {
            problems.push(format!("line {n}: unescaped control character"));
        }
        last_timestamp = timestamp;
        found.pids.insert(pid);
        if let Some(client) = pgbench_client(message) {
            *found.clients.entry(client).or_default() += 1;
        }
        if problems.len() > 10 {
            break;
        }
    }
    found
}

/// Checks the number of lines and of pgbench clients against `expect`.
fn check_expected(
    lines: usize,
    clients: &BTreeMap<u64, usize>,
    expect: &Expect,
    problems: &mut Vec<String>,
) {
    match expect.lines {
        Some(want) if lines != want => {
            problems.push(format!("{lines} lines, expected exactly {want}"));
        }
        _ => {}
    }
    match expect.min_lines {
        Some(want) if lines < want => {
            problems.push(format!("{lines} lines, expected at least {want}"));
        }
        _ => {}
    }
    if let Some((want_clients, per_client)) = expect.clients {
        if clients.len() != want_clients {
            let got = clients.len();
            problems.push(format!(
                "lines from {got} pgbench clients, expected {want_clients}"
            ));
        }
        let wrong: BTreeMap<_, _> = clients.iter().filter(|(_, k)| **k != per_client).collect();
        if !wrong.is_empty() {
            problems.push(format!(
                "clients without exactly {per_client} lines: {wrong:?}"
            ));
        }
    }
}

/// A line's timestamp, pid, sequence number and message, when it has the form
/// `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z [1-9]\d* [1-9]\d* .*`.
pub fn parse_line(line: &[u8]) -> Option<(&[u8], u64, u64, &[u8])> {
    const FORM: &[u8] = b"dddd-dd-ddTdd:dd:dd.ddddddZ";
    let mut fields = line.splitn(4, |&b| b == b' ');
    let (timestamp, pid, seq, message) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    let timestamp_ok = timestamp.len() == FORM.len()
        && timestamp.iter().zip(FORM).all(|(&b, &f)| match f {
            b'd' => b.is_ascii_digit(),
            f => b == f,
        });
    let number = |s: &[u8]| -> Option<u64> {
        let digits = s.first().is_some_and(|&b| b != b'0') && s.iter().all(u8::is_ascii_digit);
        digits
            .then(|| std::str::from_utf8(s).ok()?.parse().ok())
            .flatten()
    };
    timestamp_ok.then_some(())?;
    Some((timestamp, number(pid)?, number(seq)?, message))
}

/// The client id of a pgbench message, "pgbench client <id>: ...".
fn pgbench_client(message: &[u8]) -> Option<u64> {
    let rest = message.strip_prefix(b"pgbench client ")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || rest.get(digits..digits + 2) != Some(b": ") {
        return None;
    }
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}
