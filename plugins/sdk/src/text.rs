//! Building explanations and log lines without the formatting machinery.
//!
//! `format!` goes through `core::fmt`'s dynamic dispatch and padding logic
//! for every argument; inside a component every one of those instructions
//! is metered. A plugin that writes a line per order line or allocation
//! can append the pieces instead:
//!
//! ```
//! use chanhost_sdk::text::push_int;
//! let mut line = String::from("line ");
//! push_int(&mut line, 3);
//! line.push_str(": 12 cases");
//! assert_eq!(line, "line 3: 12 cases");
//! ```

/// Appends `n` in decimal, with a `-` when negative.
pub fn push_int(out: &mut String, n: impl Into<i64>) {
    // i64, not i128: 128-bit division is a library call in WebAssembly.
    let n: i64 = n.into();
    if n < 0 {
        out.push('-');
    }
    let mut rest = n.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend(digits[..len].iter().rev().map(|d| char::from(*d)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_as_display_writes_them() {
        for n in [0i64, 7, -7, 10, 1_000_000, i64::MAX, i64::MIN] {
            let mut out = String::new();
            push_int(&mut out, n);
            assert_eq!(out, n.to_string());
        }
        let mut out = String::new();
        push_int(&mut out, u32::MAX);
        assert_eq!(out, u32::MAX.to_string());
    }
}
