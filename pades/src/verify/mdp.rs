//! What a signature allows afterwards: certification (DocMDP `/P`) and field locks (FieldMDP),
//! judged against the changes found in later revisions.

use super::*;

/// The certification signature (catalog `/Perms /DocMDP`) and its `/P` (default 2).
pub(super) fn certification(doc: &Document<'_>, catalog: &Dict) -> Option<(ObjRef, i64)> {
    let perms = doc.resolve_dict(catalog.get(b"Perms")?, "/Perms").ok()?;
    let r = perms.get(b"DocMDP")?.as_ref()?;
    let sig = doc.resolve_dict(&Object::Reference(r), "/DocMDP").ok()?;
    let p = transforms(doc, &sig)
        .into_iter()
        .find(|(m, _)| m.as_slice() == b"DocMDP")
        .and_then(|(_, params)| params.get(b"P").and_then(Object::as_i64))
        .unwrap_or(2);
    Some((r, p))
}

/// `/Reference` entries of a signature dictionary: (TransformMethod, TransformParams).
pub(super) fn transforms(doc: &Document<'_>, sig: &Dict) -> Vec<(Vec<u8>, Dict)> {
    let refs = match sig.get(b"Reference").map(|r| doc.deref(r)) {
        Some(Ok(Object::Array(a))) => a,
        _ => return Vec::new(),
    };
    refs.iter()
        .filter_map(|r| doc.resolve_dict(r, "a signature reference").ok())
        .filter_map(|sr| {
            let method = sr.get(b"TransformMethod")?.as_name()?.to_vec();
            let params = sr
                .get(b"TransformParams")
                .and_then(|p| doc.resolve_dict(p, "/TransformParams").ok())
                .unwrap_or_default();
            Some((method, params))
        })
        .collect()
}

/// A FieldMDP lock: does it cover the field `name`?
pub(super) fn locks(params: &Dict, name: &str) -> bool {
    let listed = || {
        params
            .get(b"Fields")
            .and_then(Object::as_array)
            .is_some_and(|a| {
                a.iter().filter_map(Object::as_string).any(|s| {
                    // A listed field locks its descendants too (`a` locks `a.b`).
                    let listed = crate::pdf::text::decode_text(s);
                    name == listed
                        || name
                            .strip_prefix(listed.as_str())
                            .is_some_and(|rest| rest.starts_with('.'))
                })
            })
    };
    match params.get(b"Action").and_then(Object::as_name) {
        Some(b"All") => true,
        Some(b"Include") => listed(),
        Some(b"Exclude") => !listed(),
        _ => false,
    }
}

/// Does a FieldMDP lock cover any field at all?
pub(super) fn locks_any(params: &Dict) -> bool {
    match params.get(b"Action").and_then(Object::as_name) {
        Some(b"All" | b"Exclude") => true,
        Some(b"Include") => params
            .get(b"Fields")
            .and_then(Object::as_array)
            .is_some_and(|a| !a.is_empty()),
        _ => false,
    }
}

/// Judge the later changes against what this signature allows.
pub(super) fn judge_changes(
    ctx: &mut SigCtx,
    about: &Signature<'_>,
    doc: &Document<'_>,
    sig: &Dict,
) {
    let allowed = match about.certification {
        Some(1) => ChangeLevel::Ltv,
        Some(2) => ChangeLevel::FormChanges,
        Some(3) => ChangeLevel::Annotations,
        _ => ChangeLevel::FormFilling,
    };
    let policy = match about.certification {
        Some(p) => format!("certification DocMDP /P {p}"),
        None => "approval signature".into(),
    };
    let mut lock_params: Vec<Dict> = transforms(doc, sig)
        .into_iter()
        .filter(|(m, _)| m.as_slice() == b"FieldMDP")
        .map(|(_, p)| p)
        .collect();
    if let Some(l) = about
        .field
        .get(b"Lock")
        .and_then(|l| doc.resolve_dict(l, "/Lock").ok())
    {
        lock_params.push(l);
    }
    let changes = ctx.report.changes.clone();
    if let Some(c) = changes.iter().find(|c| c.level > allowed) {
        ctx.fail(
            Indication::Indeterminate,
            SubIndication::SigConstraintsFailure,
            "changes-after-signing",
            format!("{} (not allowed after an {policy})", c.what),
        );
        return;
    }
    for c in &changes {
        if c.every_field && c.level >= ChangeLevel::FormFilling && lock_params.iter().any(locks_any)
        {
            ctx.fail(
                Indication::Indeterminate,
                SubIndication::SigConstraintsFailure,
                "changes-after-signing",
                format!(
                    "fields are locked by this signature (FieldMDP) but {}",
                    c.what
                ),
            );
            return;
        }
        if c.level >= ChangeLevel::FormFilling {
            if let Some(name) = &c.field {
                if lock_params.iter().any(|p| locks(p, name)) {
                    ctx.fail(
                        Indication::Indeterminate,
                        SubIndication::SigConstraintsFailure,
                        "changes-after-signing",
                        format!(
                            "field {name} is locked by this signature (FieldMDP) but {}",
                            c.what
                        ),
                    );
                    return;
                }
            }
        }
    }
    if !changes.is_empty() {
        ctx.pass(
            "changes-after-signing",
            format!(
                "{} later change(s), all allowed after an {policy}",
                changes.len()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(action: &str, fields: &[&str]) -> Dict {
        let mut d = Dict::new();
        d.set(b"Action", Object::Name(action.as_bytes().to_vec()));
        d.set(
            b"Fields",
            Object::Array(
                fields
                    .iter()
                    .map(|f| Object::String(f.as_bytes().to_vec()))
                    .collect(),
            ),
        );
        d
    }

    #[test]
    fn a_listed_field_locks_its_descendants() {
        let l = lock("Include", &["person"]);
        assert!(locks(&l, "person"));
        assert!(locks(&l, "person.name"));
        assert!(!locks(&l, "personnel"));
        let x = lock("Exclude", &["person"]);
        assert!(!locks(&x, "person.name"));
        assert!(locks(&x, "amount"));
        assert!(locks_any(&x));
        assert!(!locks_any(&lock("Include", &[])));
    }
}
