//! CPU time per thread group of this process (from /proc, Linux only) and
//! of the whole machine, to tell client from server from database.

use std::collections::BTreeMap;

/// Ticks (1/100 s) per thread id with its group, and the machine's busy ticks.
pub struct Snapshot {
    threads: BTreeMap<u64, (String, u64)>,
    /// PostgreSQL's processes on this machine, by pid: whether it
    /// serves the bench's database (else another database or a
    /// background process), and its ticks.
    postgres: BTreeMap<u64, (bool, u64)>,
    machine: u64,
}

/// `database`: the PostgreSQL database the server uses, if any.
pub fn snapshot(database: Option<&str>) -> Snapshot {
    let mut threads = BTreeMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for entry in dir.flatten() {
            let Ok(tid) = entry.file_name().to_string_lossy().parse::<u64>() else {
                continue;
            };
            if let Ok(stat) = std::fs::read_to_string(entry.path().join("stat"))
                && let Some((comm, ticks)) = parse_stat(&stat)
            {
                threads.insert(tid, (group(comm).to_string(), ticks));
            }
        }
    }
    let mut postgres = BTreeMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u64>() else {
                continue;
            };
            if let Ok(stat) = std::fs::read_to_string(entry.path().join("stat"))
                && let Some(("postgres", ticks)) = parse_stat(&stat)
            {
                // A backend's title: `postgres: <cluster>: <user> <database> <client> <state>`.
                let title =
                    std::fs::read_to_string(entry.path().join("cmdline")).unwrap_or_default();
                let ours =
                    database.is_some_and(|db| title.split_whitespace().any(|word| word == db));
                postgres.insert(pid, (ours, ticks));
            }
        }
    }
    let machine = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| s.lines().next().map(busy_ticks))
        .unwrap_or(0);
    Snapshot {
        threads,
        postgres,
        machine,
    }
}

/// `(comm, utime + stime)` from a `/proc/<pid>/task/<tid>/stat` line.
pub fn parse_stat(stat: &str) -> Option<(&str, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((&stat[open + 1..close], utime + stime))
}

/// Busy ticks from the `cpu` line of /proc/stat (all but idle and iowait).
fn busy_ticks(line: &str) -> u64 {
    line.split_whitespace()
        .skip(1)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4 && *i < 8)
        .filter_map(|(_, v)| v.parse::<u64>().ok())
        .sum()
}

/// A thread's group: its name without a trailing number.
pub fn group(comm: &str) -> &str {
    comm.trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches('-')
}

/// CPU per group, also per created order: what bounds throughput on
/// a shared machine, whatever else runs on it.
pub fn report(before: &Snapshot, after: &Snapshot, seconds: f64, orders: usize) -> String {
    let mut groups: BTreeMap<&str, u64> = BTreeMap::new();
    for (tid, (name, ticks)) in &after.threads {
        let earlier = before.threads.get(tid).map_or(0, |(_, t)| *t);
        *groups.entry(name).or_default() += ticks.saturating_sub(earlier);
    }
    let ours: u64 = groups.values().sum();
    let machine = after.machine.saturating_sub(before.machine);
    let secs = |ticks: u64| ticks as f64 / 100.0;
    let per_order = |ticks: u64| ticks as f64 * 1e4 / orders.max(1) as f64;
    let mut out = format!(
        "CPU over the window: machine {:.2} s busy ({:.0}% of {:.1} s × {} cores), this process {:.2} s \
         ({:.0} µs per created order), other processes {:.2} s\n",
        secs(machine),
        secs(machine) / seconds / cores() * 100.0,
        seconds,
        cores(),
        secs(ours),
        per_order(ours),
        secs(machine.saturating_sub(ours))
    );
    let (mut mine, mut rest) = (0, 0);
    for (pid, (ours, ticks)) in &after.postgres {
        let used = ticks.saturating_sub(before.postgres.get(pid).map_or(0, |(_, t)| *t));
        if *ours { mine += used } else { rest += used }
    }
    if mine + rest > 0 {
        out.push_str(&format!(
            "  of the other processes, PostgreSQL: backends of the bench's database {:.2} s ({:.0} µs per order), \
             the rest (other databases, WAL writer…) {:.2} s\n",
            secs(mine),
            per_order(mine),
            secs(rest)
        ));
    }
    let mut sorted: Vec<_> = groups.into_iter().filter(|(_, t)| *t > 0).collect();
    sorted.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
    for (name, ticks) in sorted {
        out.push_str(&format!(
            "  {name:<20} {:>6.2} s  {:>4.0}%  {:>6.0} µs per order\n",
            secs(ticks),
            ticks as f64 / ours.max(1) as f64 * 100.0,
            per_order(ticks)
        ));
    }
    out
}

fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_stat_and_groups() {
        let stat = "4242 (srv-worker-1) S 1 2 3 4 5 6 7 8 9 10 250 40 0 0 20 0";
        assert_eq!(parse_stat(stat), Some(("srv-worker-1", 290)));
        assert_eq!(group("srv-worker-1"), "srv-worker");
        assert_eq!(group("sqlx-sqlite-wor"), "sqlx-sqlite-wor");
        assert_eq!(group("srv-blocking-17"), "srv-blocking");
    }
}
