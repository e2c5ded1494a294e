//! How a page's content leaves the graphics state stack: content that pops more states than it
//! pushed, or leaves some pushed, would otherwise bend what is drawn after it (the footer).

use super::lexer::{Lexer, Token};
use super::soft;
use crate::error::Result;
use crate::pdf::object::{Dict, Object};
use crate::pdf::Document;

/// The depth of the graphics state stack along a page's content, starting at 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Balance {
    /// The lowest depth reached (negative when the content pops states it did not push).
    pub(crate) lowest: i64,
    /// The depth at the end (positive when it leaves states pushed).
    pub(crate) end: i64,
}

/// The [`Balance`] of `page`'s content streams, read as one (unreadable parts count as empty).
///
/// # Errors
/// A spent work budget.
pub(crate) fn page_balance(doc: &Document<'_>, page: &Dict) -> Result<Balance> {
    let parts = match page.get(b"Contents") {
        Some(c) => match soft(doc.deref(c))? {
            Some(Object::Array(a)) => a,
            Some(s @ Object::Stream(_)) => vec![s],
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    let mut b = Balance { lowest: 0, end: 0 };
    for part in &parts {
        let Some(Object::Stream(s)) = soft(doc.deref(part))? else {
            continue;
        };
        let Some(data) = soft(doc.stream_data(&s))? else {
            continue;
        };
        for t in Lexer::new(&data) {
            match t {
                Token::Op(b"q") => b.end += 1,
                Token::Op(b"Q") => {
                    b.end -= 1;
                    b.lowest = b.lowest.min(b.end);
                }
                _ => {}
            }
        }
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-page PDF whose page content is `content`.
    fn pdf_with(content: &str) -> Vec<u8> {
        let mut out = b"%PDF-1.4\n".to_vec();
        let objs = [
            "<</Type/Catalog/Pages 2 0 R>>".to_string(),
            "<</Type/Pages/Kids[3 0 R]/Count 1>>".to_string(),
            "<</Type/Page/Parent 2 0 R/MediaBox[0 0 100 100]/Contents 4 0 R>>".to_string(),
            format!("<</Length {}>>stream\n{content}\nendstream", content.len()),
        ];
        let mut offs = Vec::new();
        for (i, o) in objs.iter().enumerate() {
            offs.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let x = out.len();
        out.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
        for o in offs {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<</Size 5/Root 1 0 R>>\nstartxref\n{x}\n%%EOF").as_bytes(),
        );
        out
    }

    fn balance_of(content: &str) -> Balance {
        let pdf = pdf_with(content);
        let doc = Document::open(&pdf).expect("opens");
        let page = doc
            .resolve_dict(
                &Object::Reference(crate::pdf::object::ObjRef::new(3, 0)),
                "page",
            )
            .expect("page");
        page_balance(&doc, &page).expect("reads")
    }

    #[test]
    fn counts_pushes_and_pops_along_the_content() {
        assert_eq!(
            balance_of("q 1 0 0 1 5 5 cm Q"),
            Balance { lowest: 0, end: 0 }
        );
        assert_eq!(
            balance_of("q q 2 0 0 2 0 0 cm"),
            Balance { lowest: 0, end: 2 }
        );
        assert_eq!(
            balance_of("Q Q q"),
            Balance {
                lowest: -2,
                end: -1
            }
        );
        // Strings and comments are not operators.
        assert_eq!(
            balance_of("BT (Q q Q) Tj ET % Q\n"),
            Balance { lowest: 0, end: 0 }
        );
    }
}
