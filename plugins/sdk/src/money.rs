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
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    let whole = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}¥{grouped}.{:02}", abs % 100)
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
    }
}
