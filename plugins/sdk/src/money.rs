//! Integer money helpers: fen in, fen out, no floats anywhere.

use crate::Fen;

/// `amount` scaled by `bp` basis points (10000 = 100%), rounded half away
/// from zero. `apply_bp(10_000, -500)` is a 5% cut: 9_500.
pub fn apply_bp(amount: Fen, bp: i32) -> Fen {
    amount + percent_of(amount, bp)
}

/// `bp` basis points of `amount`, rounded half away from zero.
pub fn percent_of(amount: Fen, bp: i32) -> Fen {
    let product = i128::from(amount) * i128::from(bp);
    let rounded = if product >= 0 {
        (product + 5_000) / 10_000
    } else {
        (product - 5_000) / 10_000
    };
    rounded as Fen
}

/// `123456` → `¥1,234.56`, for explanations.
pub fn yuan(amount: Fen) -> String {
    let mut out = String::with_capacity(24);
    push_yuan(&mut out, amount);
    out
}

/// Appends [`yuan`]`(amount)` to `out`, without the formatting machinery
/// or a temporary string: explanations are built from many amounts.
pub fn push_yuan(out: &mut String, amount: Fen) {
    if amount < 0 {
        out.push('-');
    }
    out.push('¥');
    let abs = amount.unsigned_abs();
    let mut whole = abs / 100;
    let mut digits = [0u8; 20];
    let mut n = 0;
    loop {
        digits[n] = b'0' + (whole % 10) as u8;
        n += 1;
        whole /= 10;
        if whole == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        out.push(char::from(digits[i]));
        if i > 0 && i % 3 == 0 {
            out.push(',');
        }
    }
    out.push('.');
    let cents = (abs % 100) as u8;
    out.push(char::from(b'0' + cents / 10));
    out.push(char::from(b'0' + cents % 10));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basis_points_round_half_away_from_zero() {
        assert_eq!(apply_bp(10_000, -500), 9_500);
        assert_eq!(percent_of(15, 5_000), 8);
        assert_eq!(percent_of(-15, 5_000), -8);
        assert_eq!(apply_bp(i64::MAX / 2, 0), i64::MAX / 2);
    }

    #[test]
    fn yuan_groups_thousands() {
        assert_eq!(yuan(123_456), "¥1,234.56");
        assert_eq!(yuan(-5), "-¥0.05");
        assert_eq!(yuan(100_000_000), "¥1,000,000.00");
        assert_eq!(yuan(0), "¥0.00");
        assert_eq!(yuan(99_999), "¥999.99");
        assert_eq!(yuan(i64::MIN), "-¥92,233,720,368,547,758.08");
    }
}
