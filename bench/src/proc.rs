//! CPU time and context switches from Linux's `/proc` (proc(5)): of this process's threads by
//! name, of the process and its children, and of the whole machine. Where `/proc` cannot be
//! read, the figures are zero.

use std::time::Duration;

/// A count of clock ticks as time (`USER_HZ` is 100 on Linux: ticks of 10 ms).
fn ticks(n: u64) -> Duration {
    Duration::from_millis(n * 10)
}

/// The name in a `/proc/…/stat` line, and the sum of its numeric `fields` (numbered as in
/// proc(5): field 3, the state, is the first after the name's closing parenthesis).
fn stat_fields<'a>(stat: &'a str, fields: &[usize]) -> Option<(&'a str, u64)> {
    let (head, rest) = stat.rsplit_once(')')?;
    let name = head.split_once('(').map_or("", |(_, n)| n);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let sum = fields
        .iter()
        .filter_map(|&n| f.get(n - 3).and_then(|w| w.parse::<u64>().ok()))
        .sum();
    Some((name, sum))
}

/// CPU time (user + system) of this process's live threads, split by their names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThreadCpu {
    /// Of the threads whose names the caller picked.
    pub picked: Duration,
    /// Of every other thread.
    pub others: Duration,
}

/// CPU time (user + system, `utime` and `stime`) used so far by this process's live threads,
/// from `/proc/self/task/*/stat`, split into the threads whose names `pick` takes and the
/// others. Threads that ended are not counted (keep the threads to be measured alive).
pub fn thread_cpu(pick: impl Fn(&str) -> bool) -> ThreadCpu {
    let mut picked = 0;
    let mut others = 0;
    for t in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
            continue;
        };
        let Some((name, n)) = stat_fields(&stat, &[14, 15]) else {
            continue;
        };
        if pick(name) {
            picked += n;
        } else {
            others += n;
        }
    }
    ThreadCpu {
        picked: ticks(picked),
        others: ticks(others),
    }
}

/// CPU time (user + system) of the whole process so far, its ended threads included
/// (`utime` and `stime`, fields 14 and 15 of `/proc/self/stat`).
pub fn process_cpu() -> Duration {
    self_stat(&[14, 15])
}

/// CPU time (user + system) of this process's children that have ended and been waited for
/// (`cutime` and `cstime`, fields 16 and 17 of `/proc/self/stat`).
pub fn children_cpu() -> Duration {
    self_stat(&[16, 17])
}

/// The sum of `fields` of `/proc/self/stat`, as clock ticks.
fn self_stat(fields: &[usize]) -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    ticks(stat_fields(&stat, fields).map_or(0, |(_, n)| n))
}

/// The whole machine's busy CPU time (user, system, interrupts; not idle, I/O wait or time
/// stolen by the hypervisor) and context switches so far, from `/proc/stat`: unlike
/// [`thread_cpu`] this also counts the kernel's own threads (block I/O, journal, network
/// softirqs), which the process's work sets going.
pub fn machine() -> (Duration, u64) {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return (Duration::ZERO, 0);
    };
    let mut busy = 0;
    let mut switches = 0;
    for line in stat.lines() {
        let mut f = line.split_whitespace();
        match f.next() {
            Some("cpu") => {
                let v: Vec<u64> = f.filter_map(|x| x.parse().ok()).collect();
                // user nice system idle iowait irq softirq steal …
                busy = [0, 1, 2, 5, 6]
                    .iter()
                    .map(|&i| v.get(i).copied().unwrap_or(0))
                    .sum::<u64>();
            }
            Some("ctxt") => switches = f.next().and_then(|x| x.parse().ok()).unwrap_or(0),
            _ => {}
        }
    }
    (ticks(busy), switches)
}

/// A mark to measure, with [`Stolen::share`], the share of the machine's CPU time the
/// hypervisor gave to others (`steal` in `/proc/stat`): a virtual machine's share of its host
/// can vary from minute to minute, and with it every rate measured on it.
#[derive(Debug, Clone, Copy)]
pub struct Stolen {
    steal: u64,
    total: u64,
}

impl Stolen {
    /// The mark for now.
    pub fn now() -> Self {
        let line = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| s.lines().next().map(str::to_string))
            .unwrap_or_default();
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        Self {
            steal: v.get(7).copied().unwrap_or(0),
            total: v.iter().take(8).sum(),
        }
    }

    /// The share stolen between `self` and now.
    pub fn share(self) -> f64 {
        let n = Self::now();
        (n.steal - self.steal) as f64 / (n.total - self.total).max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_count_from_the_name_even_when_it_holds_parentheses() {
        // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
        // utime stime cutime cstime
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 20 5 20 0";
        assert_eq!(stat_fields(stat, &[14, 15]), Some(("a (b) c", 10)));
        assert_eq!(stat_fields(stat, &[16, 17]), Some(("a (b) c", 25)));
        assert_eq!(stat_fields(stat, &[99]), Some(("a (b) c", 0)));
        assert_eq!(stat_fields("no name here", &[14]), None);
    }

    #[test]
    fn a_busy_thread_shows_under_its_name_and_in_the_process() {
        // A thread of its own spins until /proc shows it a clock tick (or five seconds pass).
        let seen = std::thread::Builder::new()
            .name("busy-probe".into())
            .spawn(|| {
                let start = std::time::Instant::now();
                let mut x = 0u64;
                loop {
                    let cpu = thread_cpu(|name| name == "busy-probe");
                    if cpu.picked > Duration::ZERO || start.elapsed() > Duration::from_secs(5) {
                        return cpu.picked;
                    }
                    for _ in 0..100_000 {
                        x = std::hint::black_box(x.wrapping_add(1));
                    }
                }
            })
            .expect("spawns")
            .join()
            .expect("joins");
        assert!(seen > Duration::ZERO, "no CPU time under the thread's name");
        assert!(
            process_cpu() > Duration::ZERO,
            "no CPU time for the process"
        );
        assert_eq!(thread_cpu(|_| false).picked, Duration::ZERO);
    }
}
