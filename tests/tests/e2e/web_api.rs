//! The JSON APIs over a real server on loopback: letters sealed over gRPC, then verified by
//! `POST /api/v1/verify` (body and multipart) with each inclusion proof checked here against
//! the signed checkpoint; a tampered copy, an unsigned PDF; `GET /api/v1/documents/{id}`;
//! `POST /api/v2/verify/pdf` in the national service's shape; every refusal with its status
//! and reason; the OpenAPI document against the routes and the answers; busy answers while the
//! page and the log still answer; 64 concurrent uploads.

use std::time::Duration;

use segel_proto::v1 as pb;
use segel_server::config;
use segel_tests::{corpus, pki};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::grpc::{spawn_web, start_web, WebServer};

/// A document id no seal has.
const NEVER_LOGGED: &str = "NeverLoggedId_0123456";

/// Seal `corpus/name` over its `#ttd#` tag (a visible seal: a document id) through gRPC; the
/// whole signed PDF and its document id.
async fn seal(web: &WebServer, name: &str, request_id: &str) -> (Vec<u8>, String) {
    let s = web.seal_letter(name, request_id).await;
    (s.pdf, s.document_id)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64, standard alphabet, padded (written here, independent of the server's).
fn b64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(B64[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Base64 back to bytes (padded input only).
fn b64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| B64.iter().position(|&x| x == c).expect("base64 digit") as u32;
    let bytes = s.as_bytes();
    assert_eq!(bytes.len() % 4, 0, "padded base64: {s}");
    let mut out = Vec::new();
    for q in bytes.chunks(4) {
        let pad = q.iter().filter(|&&c| c == b'=').count();
        let n = q
            .iter()
            .take(4 - pad)
            .enumerate()
            .fold(0, |n, (i, &c)| n | val(c) << (18 - 6 * i));
        out.extend(&n.to_be_bytes()[1..4 - pad]);
    }
    out
}

/// Check a v1 `log` object's inclusion proof against its checkpoint, signed by the log's key:
/// what an auditor does with the answer alone. Returns the entry's index.
fn check_proof(log: &Value, checkpoint: &Value) -> u64 {
    let note = tlog::SignedNote::parse(checkpoint["note"].as_str().expect("note")).expect("note");
    let key = tlog::NoteVerifier::parse(checkpoint["verifier_key"].as_str().expect("key"))
        .expect("verifier key");
    assert!(!note.verify(&[key]).expect("signature").is_empty());
    let cp = tlog::Checkpoint::parse(&note.text).expect("checkpoint");
    assert_eq!(checkpoint["size"], cp.size);
    let record = b64_decode(log["record"].as_str().expect("record"));
    let entry = tlog::LogEntry::decode(&record).expect("entry");
    let index = log["index"].as_u64().expect("index");
    assert_eq!(entry.index, index);
    assert_eq!(log["agency"], entry.agency.as_str());
    assert_eq!(log["document_sha256"], hex(&entry.document_sha256));
    let proof = &log["inclusion_proof"];
    assert_eq!(proof["leaf_index"], index);
    assert_eq!(proof["tree_size"], cp.size);
    let hashes: Vec<tlog::Hash> = proof["hashes"]
        .as_array()
        .expect("hashes")
        .iter()
        .map(|h| {
            b64_decode(h.as_str().expect("hash"))
                .try_into()
                .expect("32 bytes")
        })
        .collect();
    tlog::verify_inclusion(&tlog::leaf_hash(&record), index, cp.size, &hashes, &cp.root)
        .expect("the proof leads to the checkpoint's root");
    assert_eq!(log["proof_verified"], true);
    index
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The OpenAPI document, from the server.
async fn openapi(http: &reqwest::Client, base: &str) -> Value {
    let r = http
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .expect("openapi");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["cache-control"].to_str().expect("ascii"),
        "public, max-age=3600"
    );
    r.json().await.expect("JSON")
}

/// Every property the schema `name` requires is present in `value`, recursively through
/// references, arrays and `oneOf` (a small check of required fields, not a full validator).
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return conforms(doc, &doc["components"]["schemas"][name], value, at);
    }
    if let Some(options) = schema["oneOf"].as_array() {
        if value.is_null() {
            assert!(
                options.iter().any(|o| o["type"] == "null"),
                "{at}: null not allowed"
            );
            return;
        }
        let object = options.iter().find(|o| o["$ref"].is_string()).expect("ref");
        return conforms(doc, object, value, at);
    }
    for field in schema["required"].as_array().into_iter().flatten() {
        let f = field.as_str().expect("name");
        assert!(
            value.get(f).is_some(),
            "{at}: the required field {f} is missing in {value}"
        );
    }
    if let Some(props) = schema["properties"].as_object() {
        for (k, s) in props {
            if let Some(v) = value.get(k) {
                conforms(doc, s, v, &format!("{at}.{k}"));
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            conforms(doc, items, v, &format!("{at}[{i}]"));
        }
    }
}

/// `value` against the 200 answer's schema of `method path`.
fn answer_conforms(doc: &Value, method: &str, path: &str, value: &Value) {
    let schema =
        &doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "no JSON schema for {method} {path}");
    conforms(doc, schema, value, &format!("{method} {path}"));
}

/// A refusal's status, reason and JSON shape.
async fn refused(r: reqwest::Response, status: u16, reason: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "{:?}", r.headers());
    assert!(r.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("application/json"));
    let v: Value = r.json().await.expect("JSON refusal");
    assert_eq!(v["reason"], reason, "{v}");
    assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    v
}

async fn post_pdf(http: &reqwest::Client, base: &str, pdf: Vec<u8>) -> reqwest::Response {
    http.post(format!("{base}/api/v1/verify"))
        .header("content-type", "application/pdf")
        .body(pdf)
        .send()
        .await
        .expect("send")
}

async fn post_national(http: &reqwest::Client, base: &str, body: &Value) -> reqwest::Response {
    http.post(format!("{base}/api/v2/verify/pdf"))
        .json(body)
        .send()
        .await
        .expect("send")
}

/// Sealed letters verified through both APIs, their log entries found by document id, each
/// answer checked against the OpenAPI document, and every path of the document routed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_api_verifies_sealed_letters_and_finds_their_entries() {
    let web = start_web().await;
    let base = web.base();
    let http = reqwest::Client::new();
    let doc = openapi(&http, &base).await;
    let (letter, id) = seal(&web, "surat-rekomendasi.pdf", "api-1").await;
    let (other, _) = seal(&web, "surat-gs-ps2pdf.pdf", "api-2").await;

    // v1 by body: TOTAL-PASSED, found in the log, the proof checked here.
    let r = post_pdf(&http, &base, letter.clone()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let v: Value = r.json().await.expect("JSON");
    answer_conforms(&doc, "post", "/api/v1/verify", &v);
    assert_eq!(v["overall"], "TOTAL-PASSED", "{v:#}");
    let sigs = v["signatures"].as_array().expect("signatures");
    assert_eq!(sigs.len(), 1);
    let s = &sigs[0];
    assert_eq!(s["indication"], "TOTAL-PASSED");
    assert!(s["sub_indication"].is_null());
    assert_eq!(s["chain_trusted"], true);
    assert_eq!(s["coverage"], json!({"kind": "whole_file", "end": null}));
    assert!(s["signer"]["subject"]
        .as_str()
        .is_some_and(|x| x.contains("CN=")));
    assert!(s["signer"]["name"].is_string());
    assert!(s["signing_time"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(s["report"]["field"], s["field"]);
    assert_eq!(s["report"]["indication"], "TOTAL-PASSED");
    let log = &s["log"];
    let index = check_proof(log, &v["checkpoint"]);
    assert_eq!(log["agency"], "dev");
    assert_eq!(
        log["document_id_sha256"],
        hex(&pades::sha256(id.as_bytes()))
    );
    // The id itself, kept beside the entry: its hash is what the entry records.
    assert_eq!(log["document_id"], id.as_str());
    assert_eq!(log["document_sha256"], hex(&pades::sha256(&letter)));
    assert!(log["logged_at"].as_str().is_some_and(|t| t.ends_with('Z')));

    // v1 by multipart: the same verdict for the other letter.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(other.clone())
            .file_name("surat.pdf")
            .mime_str("application/pdf")
            .expect("mime"),
    );
    let v2: Value = http
        .post(format!("{base}/api/v1/verify"))
        .multipart(form)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("JSON");
    assert_eq!(v2["overall"], "TOTAL-PASSED", "{v2:#}");
    let other_index = check_proof(&v2["signatures"][0]["log"], &v2["checkpoint"]);
    assert_ne!(other_index, index);

    // A tampered copy: one byte of the letter's title changed, the length kept.
    let at = letter
        .windows(b"(Surat Rekomendasi".len())
        .position(|w| w == b"(Surat Rekomendasi")
        .expect("title")
        + 4;
    let mut tampered = letter.clone();
    tampered[at] = b'u';
    let v: Value = post_pdf(&http, &base, tampered.clone())
        .await
        .json()
        .await
        .expect("JSON");
    answer_conforms(&doc, "post", "/api/v1/verify", &v);
    assert_eq!(v["overall"], "TOTAL-FAILED", "{v:#}");
    assert_eq!(v["signatures"][0]["indication"], "TOTAL-FAILED");
    assert_eq!(v["signatures"][0]["sub_indication"], "HASH_FAILURE");
    assert!(
        v["signatures"][0]["log"].is_null(),
        "no entry for other bytes"
    );

    // An unsigned PDF: no signatures.
    let unsigned = std::fs::read(corpus().join("reportlab-1page.pdf")).expect("corpus");
    let v: Value = post_pdf(&http, &base, unsigned.clone())
        .await
        .json()
        .await
        .expect("JSON");
    answer_conforms(&doc, "post", "/api/v1/verify", &v);
    assert_eq!(v["signatures"], json!([]));
    assert_eq!(v["overall"], "INDETERMINATE");

    // The document id: found (with the id itself), unknown, malformed.
    let r = http
        .get(format!("{base}/api/v1/documents/{id}"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let d: Value = r.json().await.expect("JSON");
    answer_conforms(&doc, "get", "/api/v1/documents/{document_id}", &d);
    assert_eq!(d["document_id"], id.as_str());
    let entries = d["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["document_id"], id.as_str());
    assert_eq!(check_proof(&entries[0], &d["checkpoint"]), index);
    let r = http
        .get(format!("{base}/api/v1/documents/{NEVER_LOGGED}"))
        .send()
        .await
        .expect("send");
    refused(r, 404, "ENTRY_NOT_FOUND").await;
    for bad in [
        "short",
        "has%20space_0123456789",
        &"x".repeat(65),
        "dot.dot.dot.dot.dot.dot",
    ] {
        let r = http
            .get(format!("{base}/api/v1/documents/{bad}"))
            .send()
            .await
            .expect("send");
        refused(r, 400, "INVALID_DOCUMENT_ID").await;
    }

    // v2: VALID, INVALID, NO_SIGNATURE, every field spelt as the national service spells it.
    let national = |pdf: &[u8]| json!({ "file": b64_encode(pdf) });
    let r = post_national(&http, &base, &national(&letter)).await;
    assert_eq!(r.status(), 200);
    let n: Value = r.json().await.expect("JSON");
    answer_conforms(&doc, "post", "/api/v2/verify/pdf", &n);
    assert_eq!(n["conclusion"], "VALID", "{n:#}");
    assert_eq!(
        n["description"],
        "Dokumen valid, Sertifikat yang digunakan terpercaya"
    );
    assert_eq!(n["signatureCount"], 1);
    let info = &n["signatureInformations"][0];
    let mut keys: Vec<&str> = info
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "certLevelCode",
            "certificateDetails",
            "certificateTrusted",
            "digestAlgorithm",
            "fieldName",
            "id",
            "integrityValid",
            "lastSignature",
            "location",
            "ltv",
            "reason",
            "signatureAlgorithm",
            "signatureDate",
            "signatureFormat",
            "signerName",
            "timestampInfomation",
        ]
    );
    assert_eq!(info["integrityValid"], true);
    assert_eq!(info["certificateTrusted"], true);
    assert_eq!(info["lastSignature"], true);
    assert_eq!(info["ltv"], false);
    assert!(info["timestampInfomation"].is_null());
    assert_eq!(info["signatureFormat"], "PAdES-BASELINE-B");
    assert_eq!(info["digestAlgorithm"], "SHA-256");
    assert!(info["signatureAlgorithm"]
        .as_str()
        .is_some_and(|a| a.contains("SHA-256")));
    assert_eq!(info["fieldName"], v_field(&http, &base, &letter).await);
    assert_eq!(info["signerName"], s["signer"]["name"]);
    let date = info["signatureDate"].as_str().expect("date");
    assert!(date.ends_with(".000+00:00") && date.len() == 29, "{date}");
    assert!(info["id"]
        .as_str()
        .is_some_and(|i| i.starts_with("S-") && i.len() == 66));
    let cert = &info["certificateDetails"][0];
    let mut keys: Vec<&str> = cert
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "commonName",
            "id",
            "issuerName",
            "keyUsages",
            "notAfterDate",
            "notBeforeDate",
            "serialNumber",
            "signatureAlgoritm",
        ]
    );
    assert!(cert["serialNumber"]
        .as_str()
        .is_some_and(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit())));
    assert!(cert["id"]
        .as_str()
        .is_some_and(|i| i.starts_with("C-") && i.len() == 66));
    assert_eq!(cert["commonName"], info["signerName"]);

    let n: Value = post_national(&http, &base, &national(&tampered))
        .await
        .json()
        .await
        .expect("JSON");
    answer_conforms(&doc, "post", "/api/v2/verify/pdf", &n);
    assert_eq!(n["conclusion"], "INVALID", "{n:#}");
    assert_eq!(n["signatureInformations"][0]["integrityValid"], false);
    // The sealed letter with its page content replaced in a later revision: the signature
    // itself verifies, but the document changed after it: INVALID, integrity not valid.
    let changed = segel_tests::attacks::replace_content(&letter);
    let n: Value = post_national(&http, &base, &national(&changed))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(n["conclusion"], "INVALID", "{n:#}");
    assert_eq!(
        n["signatureInformations"][0]["integrityValid"], false,
        "{n:#}"
    );
    let n: Value = post_national(&http, &base, &national(&unsigned))
        .await
        .json()
        .await
        .expect("JSON");
    answer_conforms(&doc, "post", "/api/v2/verify/pdf", &n);
    assert_eq!(n["conclusion"], "NO_SIGNATURE");
    assert_eq!(n["signatureCount"], 0);
    assert_eq!(n["signatureInformations"], json!([]));
    // An empty password is what some integrations always send: accepted.
    let n: Value = post_national(
        &http,
        &base,
        &json!({ "file": b64_encode(&letter), "password": "" }),
    )
    .await
    .json()
    .await
    .expect("JSON");
    assert_eq!(n["conclusion"], "VALID");

    // Every path and method of the OpenAPI document is routed (neither the fallback's 404 nor
    // a 405).
    let mut routed = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("methods").keys() {
            let url = format!(
                "{base}{}",
                path.replace("{document_id}", NEVER_LOGGED)
                    .replace("{file}", "segel.css")
                    .replace("{tile_path}", "0/000")
            );
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let r = http.request(m, &url).send().await.expect("send");
            let status = r.status().as_u16();
            let body = r.text().await.expect("body");
            let fallback = status == 404 && body.contains("no such resource");
            let answered = !fallback && status != 405;
            assert!(answered, "{method} {path}: {status} {body}");
            routed.push(format!("{method} {path}"));
        }
    }
    // The page (GET and POST of / and /d/{id}, static files), the APIs, the document, the
    // checkpoint, the verifier key and the tiles.
    assert!(routed.len() >= 12, "{routed:?}");
    web.stop().await;
}

/// The field name v1 reports for `pdf`.
async fn v_field(http: &reqwest::Client, base: &str, pdf: &[u8]) -> Value {
    let v: Value = post_pdf(http, base, pdf.to_vec())
        .await
        .json()
        .await
        .expect("JSON");
    v["signatures"][0]["field"].clone()
}

/// The development configuration with a small upload limit, on a fresh log.
fn small_limits(dir: &std::path::Path, max_upload: usize) -> config::RawConfig {
    let mut raw = config::dev(&pki().path, &dir.join("log"), "127.0.0.1:0");
    raw.http.max_upload_bytes = max_upload;
    raw
}

/// Every refusal of the APIs: status, reason, JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_api_refuses_bad_requests_with_json_reasons() {
    let dir = tempfile::tempdir().expect("tempdir");
    let max = 64 * 1024;
    let web = spawn_web(small_limits(dir.path(), max)).await;
    let base = web.base();
    let http = reqwest::Client::new();
    let bad = |name: &str| std::fs::read(corpus().join(name)).expect("corpus");

    // v1: empty, not a PDF, broken, encrypted.
    refused(post_pdf(&http, &base, Vec::new()).await, 400, "NOT_A_PDF").await;
    refused(
        post_pdf(&http, &base, bad("bad/gateway-error.pdf")).await,
        400,
        "NOT_A_PDF",
    )
    .await;
    refused(
        post_pdf(&http, &base, bad("bad/truncated-download.pdf")).await,
        422,
        "INVALID_PDF",
    )
    .await;
    refused(
        post_pdf(&http, &base, bad("bad/password-protected.pdf")).await,
        422,
        "ENCRYPTED_PDF",
    )
    .await;
    // Broken cross-references: every `xref` keyword of a good file renamed.
    let mut no_xref = bad("reportlab-1page.pdf");
    for i in 0..no_xref.len() - 4 {
        if &no_xref[i..i + 4] == b"xref" {
            no_xref[i] = b'y';
        }
    }
    refused(post_pdf(&http, &base, no_xref).await, 422, "INVALID_PDF").await;
    // An empty multipart file.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(Vec::new()).file_name("a.pdf"),
    );
    let r = http
        .post(format!("{base}/api/v1/verify"))
        .multipart(form)
        .send()
        .await
        .expect("send");
    refused(r, 400, "NOT_A_PDF").await;
    // Too large: by Content-Length, and by a chunked body that never says its length.
    let big = vec![b'%'; max + 1];
    refused(
        post_pdf(&http, &base, big.clone()).await,
        413,
        "DOCUMENT_TOO_LARGE",
    )
    .await;
    let chunked = raw_request(
        web.http_port,
        "POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        &chunked_body(&big),
    )
    .await;
    assert!(chunked.starts_with("HTTP/1.1 413"), "{chunked}");
    assert!(chunked.contains("DOCUMENT_TOO_LARGE"), "{chunked}");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(big.clone()).file_name("a.pdf"),
    );
    let r = http
        .post(format!("{base}/api/v1/verify"))
        .multipart(form)
        .send()
        .await
        .expect("send");
    refused(r, 413, "DOCUMENT_TOO_LARGE").await;
    // The wrong content type, no `file` field.
    let r = http
        .post(format!("{base}/api/v1/verify"))
        .header("content-type", "text/plain")
        .body("%PDF-1.7")
        .send()
        .await
        .expect("send");
    refused(r, 400, "INVALID_REQUEST").await;
    let form = reqwest::multipart::Form::new().text("other", "x");
    let r = http
        .post(format!("{base}/api/v1/verify"))
        .multipart(form)
        .send()
        .await
        .expect("send");
    refused(r, 400, "INVALID_REQUEST").await;
    // Unknown routes and wrong methods: JSON too.
    let r = http
        .get(format!("{base}/api/v1/nothing"))
        .send()
        .await
        .expect("send");
    refused(r, 404, "INVALID_REQUEST").await;
    for (method, path, allow) in [
        (reqwest::Method::GET, "/api/v1/verify", "POST"),
        (reqwest::Method::PUT, "/api/v2/verify/pdf", "POST"),
        (
            reqwest::Method::DELETE,
            "/api/v1/documents/NeverLoggedId_0123456",
            "GET",
        ),
        (reqwest::Method::POST, "/api/openapi.json", "GET"),
    ] {
        let r = http
            .request(method, format!("{base}{path}"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.headers()["allow"], allow);
        refused(r, 405, "INVALID_REQUEST").await;
    }

    // v2: bad base64, not JSON, no `file`, a password, oversize, encrypted, empty, not a PDF.
    for body in [
        json!({ "file": "JVBERi0x*" }),
        json!({ "file": "JVBERi0xLjcK\nJVBERi0xLjcK" }),
        json!({}),
        json!({ "file": 7 }),
        json!({ "file": b64_encode(b"%PDF-1.7\n"), "password": "rahasia" }),
    ] {
        refused(
            post_national(&http, &base, &body).await,
            400,
            "INVALID_REQUEST",
        )
        .await;
    }
    let r = http
        .post(format!("{base}/api/v2/verify/pdf"))
        .header("content-type", "application/json")
        .body("{\"file\": ")
        .send()
        .await
        .expect("send");
    refused(r, 400, "INVALID_REQUEST").await;
    let r = http
        .post(format!("{base}/api/v2/verify/pdf"))
        .header("content-type", "application/pdf")
        .body("%PDF-1.7")
        .send()
        .await
        .expect("send");
    refused(r, 400, "INVALID_REQUEST").await;
    // Within the body's limit but over the document's, then over both.
    let r = post_national(
        &http,
        &base,
        &json!({ "file": b64_encode(&vec![b'%'; max + 1]) }),
    )
    .await;
    refused(r, 413, "DOCUMENT_TOO_LARGE").await;
    let r = post_national(
        &http,
        &base,
        &json!({ "file": b64_encode(&vec![b'%'; 2 * max]) }),
    )
    .await;
    refused(r, 413, "DOCUMENT_TOO_LARGE").await;
    let encrypted = json!({ "file": b64_encode(&bad("bad/password-protected.pdf")) });
    refused(
        post_national(&http, &base, &encrypted).await,
        422,
        "ENCRYPTED_PDF",
    )
    .await;
    refused(
        post_national(&http, &base, &json!({ "file": "" })).await,
        400,
        "NOT_A_PDF",
    )
    .await;
    let html = json!({ "file": b64_encode(&bad("bad/gateway-error.pdf")) });
    refused(post_national(&http, &base, &html).await, 400, "NOT_A_PDF").await;

    // The server still verifies afterwards.
    let ok = post_pdf(&http, &base, bad("reportlab-1page.pdf")).await;
    assert_eq!(ok.status(), 200);
    web.stop().await;
}

/// `body` as HTTP/1.1 chunks of 4 KiB.
fn chunked_body(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in body.chunks(4096) {
        out.extend(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend(c);
        out.extend(b"\r\n");
    }
    out.extend(b"0\r\n\r\n");
    out
}

/// Send `head` and `body` on a new connection and read the answer until the server closes
/// (or stops answering after it wrote one: a refusal may come before the body is read).
async fn raw_request(port: u16, head: &str, body: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    s.write_all(head.as_bytes()).await.expect("head");
    // The server may answer and close before it takes the whole body.
    let _ = s.write_all(body).await;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// With one verification slot and no queue, an upload whose body comes slowly holds the slot:
/// further uploads (both APIs) are refused at once with 429 and Retry-After, while the page
/// routes, the log and the OpenAPI document still answer; once the slow upload ends, uploads
/// are verified again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_api_is_busy_at_once_while_the_rest_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut raw = config::dev(&pki().path, &dir.path().join("log"), "127.0.0.1:0");
    raw.http.max_concurrent_uploads = 1;
    // One verification slot, no queue: a slow upload that held it would shut out everyone.
    raw.max_concurrent_verifications = 1;
    raw.max_queued_verifications = 0;
    let web = spawn_web(raw).await;
    let base = web.base();
    let http = reqwest::Client::new();
    let pdf = std::fs::read(corpus().join("reportlab-1page.pdf")).expect("corpus");

    // The slow upload: its headers ask for 100-continue, which the server sends only once the
    // handler reads the body, after it took the one upload place: then the place is held. It
    // keeps it by sending 16 KiB every half second (above the minimum pace) of a 20 MB body.
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", web.http_port))
        .await
        .expect("connect");
    slow.write_all(
        b"POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n\
          Content-Length: 20000000\r\nExpect: 100-continue\r\n\r\n",
    )
    .await
    .expect("head");
    let mut buf = [0u8; 256];
    let n = slow.read(&mut buf).await.expect("100 Continue");
    let got = String::from_utf8_lossy(&buf[..n]);
    assert!(got.starts_with("HTTP/1.1 100"), "{got}");
    let feeder = tokio::spawn(async move {
        let chunk = vec![b'%'; 16 * 1024];
        loop {
            if slow.write_all(&chunk).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });

    let r = post_pdf(&http, &base, pdf.clone()).await;
    let retry = r.headers().get("retry-after").cloned();
    refused(r, 429, "BUSY").await;
    assert_eq!(retry.expect("Retry-After"), "1");
    let r = post_national(&http, &base, &json!({ "file": b64_encode(&pdf) })).await;
    assert!(r.headers().contains_key("retry-after"));
    refused(r, 429, "BUSY").await;
    for path in ["/", "/log/checkpoint", "/d/NeverLoggedId_0123456"] {
        let r = http
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("send");
        assert!(
            ![429, 503].contains(&r.status().as_u16()),
            "{path} answered {}",
            r.status()
        );
    }
    openapi(&http, &base).await;
    let r = http
        .get(format!("{base}/api/v1/documents/{NEVER_LOGGED}"))
        .send()
        .await
        .expect("send");
    refused(r, 404, "ENTRY_NOT_FOUND").await;
    // A slow upload holds no verification slot: gRPC callers are verified meanwhile.
    let mut verifier =
        segel_proto::v1::verifier_client::VerifierClient::new(web.channel(None).await);
    let v = verifier
        .verify_pdf(pb::VerifyPdfRequest {
            pdf: pdf.clone().into(),
        })
        .await
        .expect("VerifyPdf while an HTTP upload trickles in")
        .into_inner();
    assert!(v.signatures.is_empty());

    // The slow upload goes away: its place is free again.
    feeder.abort();
    let _ = feeder.await;
    let mut verified = false;
    for _ in 0..600 {
        let r = post_pdf(&http, &base, pdf.clone()).await;
        if r.status() == 200 {
            verified = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        verified,
        "the place of an upload that went away is given back"
    );
    web.stop().await;
}

/// 64 uploads at once from several tasks, under the default verification limits (per core,
/// running and queued): every answer is a verdict or a busy refusal, never anything else; some
/// are verdicts; the server answers afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_api_holds_under_64_concurrent_uploads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut raw = config::dev(&pki().path, &dir.path().join("log"), "127.0.0.1:0");
    // 64 uploads from one address: a refused upload's connection closes (its body was never
    // read) and the next one opens while the server may still count the old one; the
    // per-address connection limit is not what this test measures.
    raw.http.max_connections_per_address = 256;
    let web = spawn_web(raw).await;
    let base = web.base();
    let (letter, _) = seal(&web, "surat-rekomendasi.pdf", "load-1").await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(64));
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (http, base, letter, start) =
            (http.clone(), base.clone(), letter.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let r = if i % 4 == 3 {
                post_national(&http, &base, &json!({ "file": b64_encode(&letter) })).await
            } else {
                post_pdf(&http, &base, letter).await
            };
            let status = r.status().as_u16();
            let body: Value = r.json().await.expect("JSON answer");
            match status {
                200 => assert!(
                    body["overall"] == "TOTAL-PASSED" || body["conclusion"] == "VALID",
                    "{body}"
                ),
                429 => assert_eq!(body["reason"], "BUSY"),
                other => panic!("{other}: {body}"),
            }
            status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    assert!(ok >= 1, "{statuses:?}");
    eprintln!("64 concurrent uploads: {ok} verified, {} busy", 64 - ok);
    // Still answering, and verifying.
    openapi(&http, &base).await;
    let r = post_pdf(&http, &base, letter).await;
    assert_eq!(r.status(), 200);
    web.stop().await;
}
