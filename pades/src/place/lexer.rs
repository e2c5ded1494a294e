//! Tokens of content streams and CMaps (ISO 32000-2 §7.2, §7.8.2): numbers, strings, names,
//! array and dictionary brackets, and operators.
//!
//! One pass, each byte looked at a bounded number of times: the work is linear in the input.
//! Nothing is refused here: a malformed token becomes [`Token::Bad`] and the interpreter drops
//! the operation it belongs to, as viewers do.

use crate::pdf::object::{is_delimiter, is_whitespace};
use crate::pdf::parse::escaped;

/// Deepest nesting of parentheses kept track of in a literal string (deeper ones still balance,
/// the counter saturates).
const MAX_PAREN_DEPTH: u32 = 1 << 20;

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token<'a> {
    /// A finite number.
    Num(f64),
    /// A literal or hexadecimal string, decoded.
    Str(Vec<u8>),
    /// A name, without its slash (escapes `#xx` left as written: names are only compared).
    Name(&'a [u8]),
    /// `[`
    ArrayOpen,
    /// `]`
    ArrayClose,
    /// `<<`
    DictOpen,
    /// `>>`
    DictClose,
    /// An operator or other bare keyword (`Tj`, `true`, `begincodespacerange`, …).
    Op(&'a [u8]),
    /// Something unusable (a number that is not finite, a stray delimiter).
    Bad,
}

/// A cursor over content-stream bytes.
#[derive(Debug)]
pub(super) struct Lexer<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `buf`.
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_whitespace(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\r' || c == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Skip an inline image's data after its `ID` operator: up to and including the `EI` that
    /// stands alone between white space (ISO 32000-2 §8.9.7).
    pub(super) fn skip_inline_image(&mut self) {
        // One white-space byte follows `ID`.
        self.pos = self.pos.saturating_add(1);
        while self.pos < self.buf.len() {
            let at = self.pos;
            let rest = self.buf.get(at..).unwrap_or_default();
            let before_ok = at == 0 || self.buf.get(at - 1).is_some_and(|&b| is_whitespace(b));
            let after_ok = rest.get(2).is_none_or(|&b| is_whitespace(b));
            if rest.starts_with(b"EI") && before_ok && after_ok {
                self.pos = at + 2;
                return;
            }
            self.pos += 1;
        }
    }

    fn regular_run(&mut self) -> &'a [u8] {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if is_whitespace(b) || is_delimiter(b) {
                break;
            }
            self.pos += 1;
        }
        self.buf.get(start..self.pos).unwrap_or_default()
    }

    fn literal(&mut self) -> Vec<u8> {
        // After the opening parenthesis.
        let mut out = Vec::new();
        let mut depth: u32 = 0;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'(' => {
                    depth = depth.saturating_add(1).min(MAX_PAREN_DEPTH);
                    out.push(b);
                }
                b')' if depth == 0 => return out,
                b')' => {
                    depth -= 1;
                    out.push(b);
                }
                b'\\' => self.escape(&mut out),
                b'\r' => {
                    // An end of line in a string is a single line feed.
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                _ => out.push(b),
            }
        }
        out
    }

    fn escape(&mut self, out: &mut Vec<u8>) {
        let Some(c) = self.peek() else { return };
        self.pos += 1;
        let (byte, used) = escaped(c, self.buf.get(self.pos..).unwrap_or_default());
        self.pos += used;
        out.extend(byte);
    }

    fn hex(&mut self) -> Vec<u8> {
        // After the opening angle bracket.
        let mut out = Vec::new();
        let mut hi: Option<u8> = None;
        while let Some(b) = self.peek() {
            self.pos += 1;
            let v = match b {
                b'>' => break,
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => continue,
            };
            match hi.take() {
                Some(h) => out.push(h << 4 | v),
                None => hi = Some(v),
            }
        }
        if let Some(h) = hi {
            out.push(h << 4);
        }
        out
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        self.skip_ws();
        let b = self.peek()?;
        let next = self.buf.get(self.pos + 1).copied();
        Some(match b {
            b'(' => {
                self.pos += 1;
                Token::Str(self.literal())
            }
            b'<' if next == Some(b'<') => {
                self.pos += 2;
                Token::DictOpen
            }
            b'<' => {
                self.pos += 1;
                Token::Str(self.hex())
            }
            b'>' if next == Some(b'>') => {
                self.pos += 2;
                Token::DictClose
            }
            b'[' => {
                self.pos += 1;
                Token::ArrayOpen
            }
            b']' => {
                self.pos += 1;
                Token::ArrayClose
            }
            b'/' => {
                self.pos += 1;
                Token::Name(self.regular_run())
            }
            b'{' | b'}' | b')' | b'>' => {
                self.pos += 1;
                Token::Bad
            }
            b'0'..=b'9' | b'+' | b'-' | b'.' => number(self.regular_run()),
            _ => Token::Op(self.regular_run()),
        })
    }
}

/// A number token: an integer or real as ISO 32000-2 §7.3.3 writes them; anything else (a
/// second sign, letters, a value too large to be finite) is [`Token::Bad`].
fn number(run: &[u8]) -> Token<'_> {
    let ok = !run.is_empty()
        && run
            .iter()
            .enumerate()
            .all(|(i, &b)| b.is_ascii_digit() || b == b'.' || (i == 0 && (b == b'+' || b == b'-')))
        && run.iter().filter(|&&b| b == b'.').count() <= 1;
    if !ok {
        return Token::Bad;
    }
    let text = std::str::from_utf8(run).unwrap_or("");
    let text = match text {
        "" | "+" | "-" | "." | "+." | "-." => "0",
        t => t,
    };
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Token::Num(v),
        _ => Token::Bad,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(s: &[u8]) -> Vec<Token<'_>> {
        Lexer::new(s).collect()
    }

    #[test]
    fn reads_the_usual_tokens() {
        let t = all(
            b"BT /F1 12 Tf 1 0 0 1 -.5 +3. Tm (a\\(b\\)\\101\\\n) Tj <41 4>Tj [(x) -250 (y)] TJ ET",
        );
        assert_eq!(t[0], Token::Op(b"BT"));
        assert_eq!(t[1], Token::Name(b"F1"));
        assert_eq!(t[2], Token::Num(12.0));
        assert_eq!(t[8], Token::Num(-0.5));
        assert_eq!(t[9], Token::Num(3.0));
        assert_eq!(t[11], Token::Str(b"a(b)A".to_vec()));
        assert_eq!(t[13], Token::Str(b"A@".to_vec()));
        assert_eq!(t[15], Token::ArrayOpen);
        assert_eq!(t[17], Token::Num(-250.0));
    }

    #[test]
    fn huge_and_odd_numbers_are_bad_tokens() {
        let big = format!("{} 1-2 -- .", "9".repeat(400));
        let t = all(big.as_bytes());
        assert_eq!(t, vec![Token::Bad, Token::Bad, Token::Bad, Token::Num(0.0)]);
    }

    #[test]
    fn unterminated_things_end_at_the_end() {
        assert_eq!(all(b"(abc"), vec![Token::Str(b"abc".to_vec())]);
        assert_eq!(all(b"<4142"), vec![Token::Str(b"AB".to_vec())]);
        assert_eq!(all(b"(\\"), vec![Token::Str(Vec::new())]);
        let deep = "(".repeat(100_000);
        assert_eq!(all(deep.as_bytes()).len(), 1);
    }

    #[test]
    fn inline_images_are_skipped() {
        let mut l = Lexer::new(b"BI /W 1 ID \x00EI\xffEI Q\nEI q");
        while let Some(t) = l.next() {
            if t == Token::Op(b"ID") {
                l.skip_inline_image();
                break;
            }
        }
        assert_eq!(l.collect::<Vec<_>>(), vec![Token::Op(b"q")]);
    }
}
