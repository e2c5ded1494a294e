//! `openssl speed` as the yardstick: what the machine's RSA-2048 signing alone reaches, measured
//! in the same run as the tool's own rates.

/// RSA-2048 signatures per second by `openssl speed -multi 2 -seconds 3 rsa2048`; `None` when
/// openssl is not installed or its output has no `rsa 2048` line.
pub fn rsa2048_signs_per_second() -> Option<f64> {
    let out = std::process::Command::new("openssl")
        .args(["speed", "-multi", "2", "-seconds", "3", "rsa2048"])
        .output()
        .ok()?;
    signs_per_second(&String::from_utf8_lossy(&out.stdout))
}

/// The sign/s column of the `rsa 2048` line of `openssl speed`'s output.
fn signs_per_second(text: &str) -> Option<f64> {
    // "rsa 2048 bits 0.000xxx 0.0000yy  sign/s verify/s" (columns vary by version).
    let line = text
        .lines()
        .find(|l| l.starts_with("rsa 2048") || l.contains("rsa  2048"))?;
    let nums: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    // [2048, sign_time, verify_time, sign/s, verify/s] or with more columns in OpenSSL 3.
    nums.iter().rev().nth(1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sign_rate_from_the_rsa_2048_line() {
        // As OpenSSL 3.0 prints it.
        let out = "                  sign    verify    sign/s verify/s\n\
                   rsa 2048 bits 0.000275s 0.000014s   3633.3  69555.7\n";
        assert_eq!(signs_per_second(out), Some(3633.3));
        assert_eq!(
            signs_per_second("rsa 4096 bits 0.001s 0.0001s 1000.0 10000.0"),
            None
        );
    }
}
