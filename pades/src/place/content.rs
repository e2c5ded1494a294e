//! Finding text in a page's content (ISO 32000-2 §9.4 text objects, §8.4 graphics state):
//! the text operators are interpreted with the graphics state's CTM, each shown glyph gets its
//! box in user space, and the page's characters, in content order, are matched against the tag.
//!
//! Interpreted: `q`/`Q` (at most [`MAX_STATE_DEPTH`] saved states; deeper saves are counted,
//! not stored), `cm`, `BT`, `Tf`, `Tc`, `Tw`, `Tz`, `TL`, `Ts`, `Td`, `TD`, `Tm`, `T*`, `Tj`,
//! `TJ`, `'`, `"`, and `Do` of form XObjects (their `/Matrix` and `/Resources`, at most
//! [`MAX_FORM_DEPTH`] inside one another, each form at most once per page). Inline images are
//! skipped. The work is linear in the decoded content; only the last few characters are held.

use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;

use super::fonts::{stream_bytes, Font};
use super::geometry::apply;
use super::lexer::{Lexer, Token};
use super::{num, soft, Rect};
use crate::error::Result;
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::Document;

/// Most graphics states saved inside one another.
pub(super) const MAX_STATE_DEPTH: usize = 256;
/// Most form XObjects drawn inside one another.
pub(super) const MAX_FORM_DEPTH: usize = 4;
/// Most operands kept for one operator (more are dropped; no operator takes more than six).
const MAX_OPERANDS: usize = 16;

type Matrix = [f64; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `m` then `n` (row vectors, as PDF writes matrices).
fn mul(m: &Matrix, n: &Matrix) -> Matrix {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

/// The part of the graphics state that text placement needs.
#[derive(Debug, Clone)]
struct State {
    ctm: Matrix,
    font: Option<Rc<Font>>,
    size: f64,
    char_spacing: f64,
    word_spacing: f64,
    /// Horizontal scaling as a factor (`Tz` / 100).
    scale: f64,
    leading: f64,
    rise: f64,
}

/// Matches characters, as they come, against the tag; holds only the last `tag.len()`.
#[derive(Debug)]
pub(super) struct Matcher {
    tag: Vec<char>,
    /// The last characters with their boxes and the direction of their line (degrees
    /// counter-clockwise in user space, a multiple of 90).
    window: VecDeque<(char, Rect, u16)>,
    /// The direction of the tag's first character, once found.
    direction: u16,
}

impl Matcher {
    /// A matcher for `tag`.
    pub(super) fn new(tag: &str) -> Self {
        let tag: Vec<char> = tag.chars().collect();
        Self {
            window: VecDeque::with_capacity(tag.len()),
            tag,
            direction: 0,
        }
    }

    /// The direction of the found tag's text: 0, 90, 180 or 270 degrees counter-clockwise in
    /// user space (the way its baseline runs).
    pub(super) fn direction(&self) -> u16 {
        self.direction
    }

    /// Forget what the previous page held (a tag does not run across pages).
    pub(super) fn reset(&mut self) {
        self.window.clear();
    }

    /// Add a character; the tag's box when it is now complete.
    fn push(&mut self, c: char, b: Rect, direction: u16) -> Option<Rect> {
        if self.tag.is_empty() {
            return None;
        }
        if self.window.len() == self.tag.len() {
            self.window.pop_front();
        }
        self.window.push_back((c, b, direction));
        // Most characters are not the tag's last one: the window is compared only when it is.
        if self.tag.last() == Some(&c)
            && self.window.len() == self.tag.len()
            && self.window.iter().map(|w| w.0).eq(self.tag.iter().copied())
        {
            self.direction = self.window.front().map_or(0, |w| w.2);
            return self.window.iter().map(|w| w.1).reduce(|a, b| a.union(&b));
        }
        None
    }
}

/// Fonts already loaded, by object (shared by every page of one search).
pub(super) type FontCache = HashMap<ObjRef, Option<Rc<Font>>>;

/// One page's interpretation.
pub(super) struct Page<'d, 'a, 'm> {
    doc: &'d Document<'a>,
    fonts: &'m mut FontCache,
    matcher: &'m mut Matcher,
    forms_done: HashSet<ObjRef>,
}

impl<'d, 'a, 'm> Page<'d, 'a, 'm> {
    /// Prepare to search one page.
    pub(super) fn new(
        doc: &'d Document<'a>,
        fonts: &'m mut FontCache,
        matcher: &'m mut Matcher,
    ) -> Self {
        matcher.reset();
        Self {
            doc,
            fonts,
            matcher,
            forms_done: HashSet::new(),
        }
    }

    /// Search the page's `/Contents` with its `/Resources`: the tag's box in user space.
    ///
    /// # Errors
    /// A spent budget only; unreadable content is no content.
    pub(super) fn search(
        &mut self,
        page: &Dict,
        resources: Option<&Object>,
    ) -> Result<Option<Rect>> {
        let resources = resolve_dict(self.doc, resources)?;
        let contents = match page.get(b"Contents") {
            Some(c) => soft(self.doc.deref(c))?,
            None => None,
        };
        // An array of streams is one content stream split at token boundaries (§7.8.2).
        let mut data = Vec::new();
        match contents {
            Some(Object::Array(parts)) => {
                for part in &parts {
                    if let Some(d) = stream_bytes(self.doc, part)? {
                        data.extend_from_slice(&d);
                        data.push(b'\n');
                    }
                }
            }
            Some(Object::Stream(s)) => {
                if let Some(d) = soft(self.doc.stream_data(&s))? {
                    data = d;
                }
            }
            _ => {}
        }
        let state = initial_state(IDENTITY);
        self.run(&data, resources.as_ref(), state, 0)
    }

    fn run(
        &mut self,
        data: &[u8],
        resources: Option<&Dict>,
        start: State,
        depth: usize,
    ) -> Result<Option<Rect>> {
        // Resolved once per run: a content stream naming many resources does not parse its
        // resource dictionaries again for each.
        let res = Res {
            raw: resources,
            fonts: resolve_dict(self.doc, resources.and_then(|r| r.get(b"Font")))?,
            xobjects: resolve_dict(self.doc, resources.and_then(|r| r.get(b"XObject")))?,
        };
        let mut local_fonts: HashMap<Vec<u8>, Option<Rc<Font>>> = HashMap::new();
        let mut st = start;
        let mut saved: Vec<State> = Vec::new();
        let mut overflow: usize = 0;
        let mut tm = IDENTITY;
        let mut tlm = IDENTITY;
        let mut ops: Vec<Token<'_>> = Vec::new();
        let mut array: Option<Vec<Token<'_>>> = None;
        let mut dict_depth: u32 = 0;
        let mut lex = Lexer::new(data);
        while let Some(tok) = lex.next() {
            match tok {
                Token::DictOpen => dict_depth = dict_depth.saturating_add(1),
                Token::DictClose => {
                    dict_depth = dict_depth.saturating_sub(1);
                    if dict_depth == 0 {
                        push_operand(&mut ops, Token::Bad);
                    }
                }
                _ if dict_depth > 0 => {}
                Token::ArrayOpen => array = Some(Vec::new()),
                Token::ArrayClose => {
                    // A marker for "the array just closed": its items are in `array`.
                    push_operand(&mut ops, Token::ArrayClose);
                }
                Token::Op(op) => {
                    let items = array.take().unwrap_or_default();
                    let hit = self.operator(
                        op,
                        &ops,
                        items,
                        &res,
                        &mut local_fonts,
                        Frame {
                            st: &mut st,
                            saved: &mut saved,
                            overflow: &mut overflow,
                            tm: &mut tm,
                            tlm: &mut tlm,
                            depth,
                        },
                    )?;
                    if hit.is_some() {
                        return Ok(hit);
                    }
                    if op == b"ID" {
                        lex.skip_inline_image();
                    }
                    ops.clear();
                }
                other => match array.as_mut() {
                    Some(a) if a.len() < (1 << 20) => a.push(other),
                    Some(_) => {}
                    None => push_operand(&mut ops, other),
                },
            }
        }
        Ok(None)
    }

    fn operator(
        &mut self,
        op: &[u8],
        ops: &[Token<'_>],
        items: Vec<Token<'_>>,
        res: &Res<'_>,
        local_fonts: &mut HashMap<Vec<u8>, Option<Rc<Font>>>,
        f: Frame<'_>,
    ) -> Result<Option<Rect>> {
        let mut buf = [0.0; 6];
        let n = nums(ops, &mut buf);
        let Frame {
            st,
            saved,
            overflow,
            tm,
            tlm,
            depth,
        } = f;
        match (op, n) {
            (b"q", _) => {
                if saved.len() < MAX_STATE_DEPTH {
                    saved.push(st.clone());
                } else {
                    *overflow += 1;
                }
            }
            (b"Q", _) => {
                if *overflow > 0 {
                    *overflow -= 1;
                } else if let Some(s) = saved.pop() {
                    *st = s;
                }
            }
            (b"cm", &[a, b, c, d, e, g]) => st.ctm = mul(&[a, b, c, d, e, g], &st.ctm),
            (b"BT", _) => {
                *tm = IDENTITY;
                *tlm = IDENTITY;
            }
            (b"Tf", _) => {
                if let [Token::Name(name), Token::Num(size)] = ops {
                    st.font = self.font(res, name, local_fonts)?;
                    st.size = *size;
                }
            }
            (b"Tc", &[v]) => st.char_spacing = v,
            (b"Tw", &[v]) => st.word_spacing = v,
            (b"Tz", &[v]) => st.scale = v / 100.0,
            (b"TL", &[v]) => st.leading = v,
            (b"Ts", &[v]) => st.rise = v,
            (b"Td", &[x, y]) => next_line(tm, tlm, x, y),
            (b"TD", &[x, y]) => {
                st.leading = -y;
                next_line(tm, tlm, x, y);
            }
            (b"Tm", &[a, b, c, d, e, g]) => {
                *tm = [a, b, c, d, e, g];
                *tlm = *tm;
            }
            (b"T*", _) => next_line(tm, tlm, 0.0, -st.leading),
            (b"Tj", _) => {
                if let [Token::Str(s)] = ops {
                    return Ok(self.show(st, tm, s));
                }
            }
            (b"'", _) => {
                if let [Token::Str(s)] = ops {
                    next_line(tm, tlm, 0.0, -st.leading);
                    return Ok(self.show(st, tm, s));
                }
            }
            (b"\"", _) => {
                if let [Token::Num(aw), Token::Num(ac), Token::Str(s)] = ops {
                    st.word_spacing = *aw;
                    st.char_spacing = *ac;
                    next_line(tm, tlm, 0.0, -st.leading);
                    return Ok(self.show(st, tm, s));
                }
            }
            (b"TJ", _) => {
                if let [Token::ArrayClose] = ops {
                    for item in &items {
                        match item {
                            Token::Str(s) => {
                                if let Some(hit) = self.show(st, tm, s) {
                                    return Ok(Some(hit));
                                }
                            }
                            Token::Num(k) if st.font.is_some() => {
                                let tx = -k / 1000.0 * st.size * st.scale;
                                *tm = mul(&[1.0, 0.0, 0.0, 1.0, tx, 0.0], tm);
                            }
                            _ => {}
                        }
                    }
                }
            }
            (b"Do", _) => {
                if let [Token::Name(name)] = ops {
                    return self.form(res, name, st, depth);
                }
            }
            _ => {}
        }
        Ok(None)
    }

    /// Show a string: each glyph's characters go to the matcher with the glyph's box.
    fn show(&mut self, st: &State, tm: &mut Matrix, s: &[u8]) -> Option<Rect> {
        let font = st.font.clone()?;
        for g in font.glyphs(s) {
            let trm = mul(
                &mul(&[st.size * st.scale, 0.0, 0.0, st.size, 0.0, st.rise], tm),
                &st.ctm,
            );
            let corners = [
                apply(&trm, 0.0, font.descent),
                apply(&trm, g.width, font.descent),
                apply(&trm, 0.0, font.ascent),
                apply(&trm, g.width, font.ascent),
            ];
            let b = Rect::around(&corners);
            if let Some(b) = b {
                let direction = quadrant(trm[0], trm[1]);
                for c in g.text.chars() {
                    if let Some(hit) = self.matcher.push(c, b, direction) {
                        return Some(hit);
                    }
                }
            }
            let spacing = st.char_spacing + if g.space { st.word_spacing } else { 0.0 };
            let tx = (g.width * st.size + spacing) * st.scale;
            *tm = mul(&[1.0, 0.0, 0.0, 1.0, tx, 0.0], tm);
        }
        None
    }

    fn font(
        &mut self,
        res: &Res<'_>,
        name: &[u8],
        local: &mut HashMap<Vec<u8>, Option<Rc<Font>>>,
    ) -> Result<Option<Rc<Font>>> {
        if let Some(f) = local.get(name) {
            return Ok(f.clone());
        }
        let entry = res.fonts.as_ref().and_then(|f| f.get(name)).cloned();
        let font = match entry {
            Some(Object::Reference(r)) => {
                if let Some(f) = self.fonts.get(&r) {
                    f.clone()
                } else {
                    let f = match soft(self.doc.resolve_dict(&Object::Reference(r), "a font"))? {
                        Some(d) => Font::load(self.doc, &d)?.map(Rc::new),
                        None => None,
                    };
                    self.fonts.insert(r, f.clone());
                    f
                }
            }
            Some(Object::Dict(d)) => Font::load(self.doc, &d)?.map(Rc::new),
            _ => None,
        };
        local.insert(name.to_vec(), font.clone());
        Ok(font)
    }

    /// Draw the form XObject `name` (once per page, not too deep).
    fn form(
        &mut self,
        res: &Res<'_>,
        name: &[u8],
        st: &State,
        depth: usize,
    ) -> Result<Option<Rect>> {
        if depth >= MAX_FORM_DEPTH {
            return Ok(None);
        }
        let Some(Object::Reference(r)) = res.xobjects.as_ref().and_then(|x| x.get(name)).cloned()
        else {
            return Ok(None);
        };
        if !self.forms_done.insert(r) {
            return Ok(None);
        }
        let Some(Object::Stream(s)) = soft(self.doc.resolve(r))? else {
            return Ok(None);
        };
        if s.dict.get(b"Subtype").and_then(Object::as_name) != Some(b"Form") {
            return Ok(None);
        }
        let matrix = match s.dict.get(b"Matrix").and_then(Object::as_array) {
            Some(m) if m.len() == 6 => {
                let v: Vec<f64> = m.iter().filter_map(num).collect();
                <[f64; 6]>::try_from(v.as_slice()).unwrap_or(IDENTITY)
            }
            _ => IDENTITY,
        };
        let own = resolve_dict(self.doc, s.dict.get(b"Resources"))?;
        let Some(data) = soft(self.doc.stream_data(&s))? else {
            return Ok(None);
        };
        let mut inner = st.clone();
        inner.ctm = mul(&matrix, &st.ctm);
        self.run(&data, own.as_ref().or(res.raw), inner, depth + 1)
    }
}

/// The resources of one content stream's run.
struct Res<'r> {
    /// The resource dictionary (a form without its own uses its parent's).
    raw: Option<&'r Dict>,
    /// Its `/Font` dictionary.
    fonts: Option<Dict>,
    /// Its `/XObject` dictionary.
    xobjects: Option<Dict>,
}

/// The mutable state of one content stream's run, lent to [`Page::operator`].
struct Frame<'f> {
    st: &'f mut State,
    saved: &'f mut Vec<State>,
    overflow: &'f mut usize,
    tm: &'f mut Matrix,
    tlm: &'f mut Matrix,
    depth: usize,
}

fn initial_state(ctm: Matrix) -> State {
    State {
        ctm,
        font: None,
        size: 0.0,
        char_spacing: 0.0,
        word_spacing: 0.0,
        scale: 1.0,
        leading: 0.0,
        rise: 0.0,
    }
}

fn next_line(tm: &mut Matrix, tlm: &mut Matrix, x: f64, y: f64) {
    *tlm = mul(&[1.0, 0.0, 0.0, 1.0, x, y], tlm);
    *tm = *tlm;
}

/// The direction of a baseline vector `(a, b)`, rounded to the nearest multiple of 90 degrees
/// counter-clockwise (0 for a degenerate vector).
fn quadrant(a: f64, b: f64) -> u16 {
    if !(a.is_finite() && b.is_finite()) || (a == 0.0 && b == 0.0) {
        return 0;
    }
    if a.abs() >= b.abs() {
        if a > 0.0 {
            0
        } else {
            180
        }
    } else if b > 0.0 {
        90
    } else {
        270
    }
}

fn push_operand<'t>(ops: &mut Vec<Token<'t>>, t: Token<'t>) {
    if ops.len() >= MAX_OPERANDS {
        ops.remove(0);
    }
    ops.push(t);
}

/// The operands as numbers (in `buf`) when all are numbers, else none. More than six
/// numbers are none too: no operator read here takes more.
fn nums<'b>(ops: &[Token<'_>], buf: &'b mut [f64; 6]) -> &'b [f64] {
    if ops.len() > buf.len() {
        return &[];
    }
    for (slot, t) in buf.iter_mut().zip(ops) {
        match t {
            Token::Num(n) => *slot = *n,
            _ => return &[],
        }
    }
    &buf[..ops.len()]
}

fn resolve_dict(doc: &Document<'_>, o: Option<&Object>) -> Result<Option<Dict>> {
    match o {
        Some(o) => soft(doc.resolve_dict(o, "a resource dictionary")),
        None => Ok(None),
    }
}
