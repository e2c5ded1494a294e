//! Every word the page says, once per language: Indonesian (the default) and English. A page
//! takes all its words from one [`Texts`], so that no page mixes the two.

use pades::verify::ChangeLevel;
use pades::SubIndication;

use crate::status::Reason;

/// The page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    /// Bahasa Indonesia (the default).
    Id,
    /// English (`?lang=en`).
    En,
}

impl Lang {
    /// The language a query string asks for: English for `lang=en`, Indonesian otherwise
    /// (anything else, malformed or absent, is the default, never an error).
    pub(super) fn from_query(query: Option<&str>) -> Lang {
        let asks_en = query
            .unwrap_or("")
            .split('&')
            .any(|pair| pair.eq_ignore_ascii_case("lang=en"));
        if asks_en {
            Lang::En
        } else {
            Lang::Id
        }
    }

    /// The `lang` attribute of the page.
    pub(super) fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    /// The query that keeps this language on a link or a form's action (empty for the
    /// default).
    pub(super) fn query(self) -> &'static str {
        match self {
            Lang::Id => "",
            Lang::En => "?lang=en",
        }
    }

    /// The other language (the switch link's target).
    pub(super) fn other(self) -> Lang {
        match self {
            Lang::Id => Lang::En,
            Lang::En => Lang::Id,
        }
    }

    /// This language's words.
    pub(super) fn texts(self) -> &'static Texts {
        match self {
            Lang::Id => &ID,
            Lang::En => &EN,
        }
    }

    /// A time (Unix milliseconds) in Western Indonesian Time (UTC+7), as people write it:
    /// `5 Desember 2026 pukul 11.23 WIB` or `5 December 2026, 11:23 WIB`.
    pub(super) fn wib(self, ms: i64) -> String {
        let local = pades::UnixTime::from_ms(ms.saturating_add(7 * 3_600_000));
        let (y, m, d, hh, mm, _) = local.civil();
        let month = self
            .texts()
            .months
            .get((m as usize).wrapping_sub(1))
            .copied()
            .unwrap_or("?");
        match self {
            Lang::Id => format!("{d} {month} {y} pukul {hh:02}.{mm:02} WIB"),
            Lang::En => format!("{d} {month} {y}, {hh:02}:{mm:02} WIB"),
        }
    }

    /// "entry number N" of the log.
    pub(super) fn entry_number(self, index: u64) -> String {
        match self {
            Lang::Id => format!("entri nomor {index}"),
            Lang::En => format!("entry number {index}"),
        }
    }

    /// The size of the log at its checkpoint.
    pub(super) fn tree_size(self, size: u64) -> String {
        match self {
            Lang::Id => format!("{size} entri"),
            Lang::En if size == 1 => "1 entry".to_string(),
            Lang::En => format!("{size} entries"),
        }
    }

    /// How many signatures a document carries.
    pub(super) fn signature_count(self, n: usize) -> String {
        match (self, n) {
            (Lang::Id, n) => format!("Dokumen ini memuat {n} tanda tangan elektronik."),
            (Lang::En, 1) => "The document carries 1 electronic signature.".into(),
            (Lang::En, n) => format!("The document carries {n} electronic signatures."),
        }
    }

    /// The line after a list of changes cut short.
    pub(super) fn more_changes(self, n: usize) -> String {
        match self {
            Lang::Id => format!("… dan {n} perubahan lain (lihat rincian teknis)."),
            Lang::En => format!("… and {n} more changes (see the technical details)."),
        }
    }

    /// The upload limit in people's words.
    pub(super) fn upload_limit(self, bytes: usize) -> String {
        let mb = bytes as f64 / (1024.0 * 1024.0);
        match self {
            Lang::Id => format!("Ukuran berkas paling besar {mb:.0} MB."),
            Lang::En => format!("Files of up to {mb:.0} MB."),
        }
    }

    /// A sub-indication in plain words.
    pub(super) fn sub_indication(self, s: SubIndication) -> &'static str {
        use SubIndication as S;
        match (self, s) {
            (Lang::Id, S::FormatFailure) => {
                "tanda tangan tidak dapat dibaca: bentuknya rusak atau tidak dikenal"
            }
            (Lang::En, S::FormatFailure) => {
                "the signature cannot be read: its form is broken or unknown"
            }
            (Lang::Id, S::HashFailure) => "isi dokumen berubah setelah ditandatangani",
            (Lang::En, S::HashFailure) => "the document's content changed after it was signed",
            (Lang::Id, S::SigCryptoFailure) => {
                "tanda tangan digital tidak cocok dengan sertifikat penandatangan"
            }
            (Lang::En, S::SigCryptoFailure) => {
                "the digital signature does not match the signer's certificate"
            }
            (Lang::Id, S::NoSigningCertificateFound) => {
                "sertifikat penandatangan tidak ditemukan dalam tanda tangan"
            }
            (Lang::En, S::NoSigningCertificateFound) => {
                "the signer's certificate is not in the signature"
            }
            (Lang::Id, S::NoCertificateChainFound) => {
                "sertifikat penandatangan tidak diterbitkan oleh penerbit yang dipercaya"
            }
            (Lang::En, S::NoCertificateChainFound) => {
                "the signer's certificate was not issued by a trusted issuer"
            }
            (Lang::Id, S::OutOfBoundsNoPoe) => {
                "sebuah sertifikat berada di luar masa berlakunya (kedaluwarsa)"
            }
            (Lang::En, S::OutOfBoundsNoPoe) => {
                "a certificate is outside its validity period (expired)"
            }
            (Lang::Id, S::NotYetValid) => "sertifikat penandatangan belum berlaku",
            (Lang::En, S::NotYetValid) => "the signer's certificate is not valid yet",
            (Lang::Id, S::CryptoConstraintsFailure) => {
                "algoritma atau panjang kunci tanda tangan tidak lagi diterima"
            }
            (Lang::En, S::CryptoConstraintsFailure) => {
                "the signature's algorithm or key size is no longer accepted"
            }
            (Lang::Id, S::ChainConstraintsFailure) => {
                "sebuah sertifikat dalam rantai tidak boleh dipakai untuk tanda tangan ini"
            }
            (Lang::En, S::ChainConstraintsFailure) => {
                "a certificate of the chain may not be used for this signature"
            }
            (Lang::Id, S::SigConstraintsFailure) => {
                "dokumen diubah setelah ditandatangani melebihi yang diizinkan"
            }
            (Lang::En, S::SigConstraintsFailure) => {
                "the document was changed after signing beyond what the signature allows"
            }
            (Lang::Id, _) => "lihat rincian teknis",
            (Lang::En, _) => "see the technical details",
        }
    }

    /// A change's level in plain words.
    pub(super) fn change_level(self, level: ChangeLevel) -> &'static str {
        use ChangeLevel as L;
        match (self, level) {
            (Lang::Id, L::Ltv) => {
                "data validasi atau keterangan dokumen (metadata, misalnya judul) ditambah atau \
                 diubah; halaman tidak berubah"
            }
            (Lang::En, L::Ltv) => {
                "validation data or document information (metadata, such as the title) added or \
                 changed; the pages are unchanged"
            }
            (Lang::Id, L::Signatures) => "tanda tangan atau segel baru ditambahkan",
            (Lang::En, L::Signatures) => "a new signature or seal was added",
            (Lang::Id, L::FormFilling) => "kolom isian yang kosong diisi",
            (Lang::En, L::FormFilling) => "empty form fields were filled in",
            (Lang::Id, L::FormChanges) => "isi kolom isian yang sudah ada diubah",
            (Lang::En, L::FormChanges) => "form fields that had a value were changed",
            (Lang::Id, L::Annotations) => "catatan atau coretan (anotasi) ditambah atau diubah",
            (Lang::En, L::Annotations) => "notes or markings (annotations) added or changed",
            (Lang::Id, L::Content) => "isi dokumen diubah (halaman, teks atau gambar)",
            (Lang::En, L::Content) => "the document's content changed (pages, text or images)",
        }
    }

    /// A refusal in plain words.
    pub(super) fn refusal(self, reason: Reason) -> &'static str {
        use Reason as R;
        match (self, reason) {
            (Lang::Id, R::NotAPdf) => "Berkas ini bukan PDF. Pilih berkas PDF dokumen.",
            (Lang::En, R::NotAPdf) => "This file is not a PDF. Choose the document's PDF file.",
            (Lang::Id, R::EncryptedPdf) => {
                "PDF ini dikunci dengan kata sandi (terenkripsi), sehingga tidak dapat diperiksa."
            }
            (Lang::En, R::EncryptedPdf) => {
                "This PDF is locked with a password (encrypted), so it cannot be checked."
            }
            (Lang::Id, R::InvalidPdf) => "PDF ini rusak atau tidak dapat dibaca.",
            (Lang::En, R::InvalidPdf) => "This PDF is broken or cannot be read.",
            (Lang::Id, R::DocumentTooLarge) => "Berkas terlalu besar untuk diperiksa di sini.",
            (Lang::En, R::DocumentTooLarge) => "The file is too large to be checked here.",
            (Lang::Id, R::Busy) => {
                "Server sedang sibuk memeriksa dokumen lain. Silakan coba lagi sebentar lagi."
            }
            (Lang::En, R::Busy) => {
                "The server is busy checking other documents. Please try again in a moment."
            }
            (Lang::Id, R::ShuttingDown) => {
                "Server sedang dimulai ulang. Silakan coba lagi sebentar lagi."
            }
            (Lang::En, R::ShuttingDown) => {
                "The server is restarting. Please try again in a moment."
            }
            (Lang::Id, R::Cancelled) => {
                "Pemeriksaan memakan waktu terlalu lama dan dihentikan. Silakan coba lagi."
            }
            (Lang::En, R::Cancelled) => {
                "The check took too long and was stopped. Please try again."
            }
            (Lang::Id, R::InvalidRequest) => {
                "Formulir tidak dapat dibaca. Pilih berkas PDF, lalu tekan Periksa."
            }
            (Lang::En, R::InvalidRequest) => {
                "The form cannot be read. Choose a PDF file, then press Check."
            }
            (Lang::Id, R::InvalidDocumentId | R::EntryNotFound) => {
                "Tidak ada dokumen dengan kode ini yang tercatat."
            }
            (Lang::En, R::InvalidDocumentId | R::EntryNotFound) => {
                "No document with this code is recorded."
            }
            (Lang::Id, R::Internal) => {
                "Terjadi gangguan pada server. Silakan coba lagi nanti atau hubungi pengelola."
            }
            (Lang::En, R::Internal) => {
                "The server failed. Please try again later or contact its operator."
            }
            (Lang::Id, _) => "Permintaan ini tidak dapat diproses.",
            (Lang::En, _) => "This request cannot be processed.",
        }
    }
}

/// The fixed words of one language.
#[derive(Debug)]
pub(super) struct Texts {
    /// The service's name in the header.
    pub(super) site: &'static str,
    /// The skip link.
    pub(super) skip: &'static str,
    /// The language switch link's words (in the other language, as people look for it).
    pub(super) switch: &'static str,
    /// The footer.
    pub(super) footer: &'static str,
    /// The footer's privacy line.
    pub(super) privacy: &'static str,
    /// The home page's title and heading.
    pub(super) title: &'static str,
    /// The home page's introduction.
    pub(super) intro: &'static str,
    /// The form's heading on a result or document page.
    pub(super) again: &'static str,
    /// The file input's label.
    pub(super) choose: &'static str,
    /// The drop zone's hint.
    pub(super) drop_hint: &'static str,
    /// The submit button.
    pub(super) submit: &'static str,
    /// The result page's title.
    pub(super) result_title: &'static str,
    /// Overall: every signature genuine.
    pub(super) overall_passed: &'static str,
    /// Overall: every signature genuine, with later changes they allow.
    pub(super) overall_passed_changed: &'static str,
    /// Overall: a signature is not genuine.
    pub(super) overall_failed: &'static str,
    /// Overall: cannot be decided.
    pub(super) overall_unknown: &'static str,
    /// No signature at all.
    pub(super) no_signature: &'static str,
    /// No signature: what it means.
    pub(super) no_signature_detail: &'static str,
    /// The checked file's name label.
    pub(super) file: &'static str,
    /// A signature's heading prefix.
    pub(super) signature: &'static str,
    /// Verdict: genuine.
    pub(super) genuine: &'static str,
    /// Verdict: not genuine.
    pub(super) not_genuine: &'static str,
    /// Verdict: cannot be decided.
    pub(super) undecided: &'static str,
    /// The reason's label.
    pub(super) why: &'static str,
    /// The coverage's label.
    pub(super) coverage: &'static str,
    /// Coverage: the whole document.
    pub(super) whole: &'static str,
    /// Coverage: the whole file, its integrity not checked.
    pub(super) whole_unchecked: &'static str,
    /// The signed bytes were altered.
    pub(super) altered: &'static str,
    /// Coverage: changes came after.
    pub(super) changed_after: &'static str,
    /// Coverage: unusable byte range.
    pub(super) coverage_invalid: &'static str,
    /// Coverage: a later revision with no listed change.
    pub(super) later_revision: &'static str,
    /// The signer's label.
    pub(super) signer: &'static str,
    /// The organisation's label.
    pub(super) organization: &'static str,
    /// The agency's label.
    pub(super) agency: &'static str,
    /// Unknown value.
    pub(super) unknown: &'static str,
    /// The signing time's label.
    pub(super) signed_at: &'static str,
    /// The signing time's note (claimed by the signer).
    pub(super) signed_at_note: &'static str,
    /// The chain's label.
    pub(super) chain: &'static str,
    /// Chain trusted.
    pub(super) chain_trusted: &'static str,
    /// Chain not trusted.
    pub(super) chain_untrusted: &'static str,
    /// Chain not checked.
    pub(super) chain_unchecked: &'static str,
    /// The log's label.
    pub(super) log: &'static str,
    /// In the log.
    pub(super) in_log: &'static str,
    /// Not in the log.
    pub(super) not_in_log: &'static str,
    /// Not in the log: what it means.
    pub(super) not_in_log_detail: &'static str,
    /// Logged at label.
    pub(super) logged_at: &'static str,
    /// Proof label.
    pub(super) proof: &'static str,
    /// Proof verified.
    pub(super) proof_ok: &'static str,
    /// Proof not verified.
    pub(super) proof_bad: &'static str,
    /// Tree size label.
    pub(super) log_size: &'static str,
    /// Technical details summary.
    pub(super) technical: &'static str,
    /// Field name label.
    pub(super) field: &'static str,
    /// Indication label.
    pub(super) indication: &'static str,
    /// Sub-indication label.
    pub(super) sub_indication: &'static str,
    /// Reason (engine) label.
    pub(super) engine_reason: &'static str,
    /// Checks label.
    pub(super) checks: &'static str,
    /// Check passed.
    pub(super) passed: &'static str,
    /// Check failed.
    pub(super) failed: &'static str,
    /// Subject label.
    pub(super) subject: &'static str,
    /// Issuer label.
    pub(super) issuer: &'static str,
    /// Serial label.
    pub(super) serial: &'static str,
    /// Validity label.
    pub(super) validity: &'static str,
    /// Validity's "until".
    pub(super) until: &'static str,
    /// Certificate digest label.
    pub(super) cert_digest: &'static str,
    /// Signed bytes digest label.
    pub(super) message_digest: &'static str,
    /// Signature value digest label.
    pub(super) signature_digest: &'static str,
    /// Algorithms label.
    pub(super) algorithms: &'static str,
    /// Form label.
    pub(super) form: &'static str,
    /// Document page title.
    pub(super) document_title: &'static str,
    /// Document page intro.
    pub(super) document_intro: &'static str,
    /// Document code label.
    pub(super) document_code: &'static str,
    /// Document digest label.
    pub(super) document_digest: &'static str,
    /// Checkpoint label.
    pub(super) checkpoint: &'static str,
    /// Checkpoint note summary.
    pub(super) checkpoint_note: &'static str,
    /// Verifier key label.
    pub(super) verifier_key: &'static str,
    /// The compare form's heading.
    pub(super) compare: &'static str,
    /// Invitation to compare.
    pub(super) compare_intro: &'static str,
    /// Compare: it is this document.
    pub(super) match_yes: &'static str,
    /// Compare: it is not this document.
    pub(super) match_no: &'static str,
    /// The upload carries the recorded signature, but was changed after it.
    pub(super) match_changed: &'static str,
    /// What that means.
    pub(super) match_changed_detail: &'static str,
    /// Compare: it is not this document, what to do.
    pub(super) match_no_detail: &'static str,
    /// Error page title.
    pub(super) error_title: &'static str,
    /// Not found title.
    pub(super) not_found_title: &'static str,
    /// Not found: how to check for typos.
    pub(super) not_found_help: &'static str,
    /// The technical message label.
    pub(super) technical_message: &'static str,
    /// Back link.
    pub(super) back: &'static str,
    /// The months, January first.
    pub(super) months: [&'static str; 12],
}

/// Bahasa Indonesia.
static ID: Texts = Texts {
    site: "Segel — Pemeriksaan Dokumen",
    skip: "Langsung ke isi",
    switch: "English",
    footer: "Pemeriksaan ini dijalankan oleh Segel, layanan segel elektronik instansi.",
    privacy: "Berkas yang Anda unggah hanya diperiksa dan tidak disimpan.",
    title: "Periksa keaslian dokumen",
    intro: "Pilih atau jatuhkan berkas PDF dokumen yang Anda terima. Kami memeriksa setiap \
            tanda tangan elektronik di dalamnya: apakah asli, apakah dokumen berubah setelah \
            ditandatangani, siapa penandatangannya, dan apakah tanda tangan tercatat di log \
            publik.",
    again: "Periksa dokumen lain",
    choose: "Berkas PDF",
    drop_hint: "Pilih berkas, atau seret dan jatuhkan di sini.",
    submit: "Periksa",
    result_title: "Hasil pemeriksaan",
    overall_passed: "Semua tanda tangan asli dan dokumen tidak berubah.",
    overall_passed_changed: "Semua tanda tangan asli; setelah penandatanganan ada perubahan yang \
                             diizinkan, yang dirinci di bawah.",
    overall_failed: "Dokumen ini tidak asli atau telah diubah.",
    overall_unknown: "Keaslian dokumen ini tidak dapat dipastikan.",
    no_signature: "Dokumen ini tidak memuat tanda tangan elektronik.",
    no_signature_detail: "Tanpa tanda tangan elektronik, keaslian dokumen tidak dapat \
                          diperiksa di sini. Mintalah dokumen bertanda tangan elektronik dari \
                          instansi penerbitnya.",
    file: "Berkas",
    signature: "Tanda tangan",
    genuine: "Asli",
    not_genuine: "Tidak asli",
    undecided: "Tidak dapat dipastikan",
    why: "Alasan",
    coverage: "Cakupan",
    whole: "Tanda tangan mencakup seluruh dokumen: tidak ada yang berubah sesudahnya.",
    whole_unchecked: "Tanda tangan mencakup seluruh berkas, tetapi keutuhan isinya tidak dapat \
                      diperiksa.",
    altered: "Isi yang ditandatangani telah diubah: berkas ini tidak sama dengan yang \
              ditandatangani.",
    changed_after: "Tanda tangan mencakup dokumen sampai saat ditandatangani. Sesudahnya:",
    coverage_invalid: "Bagian dokumen yang ditandatangani tidak dapat ditentukan.",
    later_revision: "Dokumen ditambah sesudahnya tanpa perubahan pada isi yang ditandatangani.",
    signer: "Penandatangan",
    organization: "Organisasi",
    agency: "Instansi",
    unknown: "tidak diketahui",
    signed_at: "Waktu tanda tangan",
    signed_at_note: "(menurut penandatangan)",
    chain: "Sertifikat",
    chain_trusted: "Sertifikat penandatangan diterbitkan oleh penerbit yang dipercaya.",
    chain_untrusted: "Sertifikat penandatangan tidak berasal dari penerbit yang dipercaya.",
    chain_unchecked: "Sertifikat penandatangan tidak dapat diperiksa.",
    log: "Log publik",
    in_log: "Tanda tangan ini tercatat di log publik",
    not_in_log: "Tanda tangan ini tidak tercatat di log publik server ini.",
    not_in_log_detail: "Tanda tangan dari luar server ini tidak tercatat di lognya; itu \
                        sendiri bukan tanda tidak asli.",
    logged_at: "Dicatat pada",
    proof: "Bukti pencatatan",
    proof_ok: "terverifikasi",
    proof_bad: "tidak terverifikasi",
    log_size: "Ukuran log",
    technical: "Rincian teknis",
    field: "Nama kolom tanda tangan",
    indication: "Indikasi",
    sub_indication: "Sub-indikasi",
    engine_reason: "Keterangan pemeriksa",
    checks: "Pemeriksaan",
    passed: "lulus",
    failed: "gagal",
    subject: "Subjek sertifikat",
    issuer: "Penerbit sertifikat",
    serial: "Nomor seri",
    validity: "Masa berlaku",
    until: "sampai",
    cert_digest: "SHA-256 sertifikat",
    message_digest: "SHA-256 bagian yang ditandatangani",
    signature_digest: "SHA-256 nilai tanda tangan",
    algorithms: "Algoritma",
    form: "Bentuk tanda tangan",
    document_title: "Dokumen tercatat",
    document_intro: "Inilah yang dicatat log publik untuk dokumen dengan kode ini.",
    document_code: "Kode dokumen",
    document_digest: "SHA-256 dokumen",
    checkpoint: "Titik periksa log",
    checkpoint_note: "Catatan titik periksa yang ditandatangani",
    verifier_key: "Kunci pemverifikasi",
    compare: "Bandingkan dengan berkas Anda",
    compare_intro: "Punya berkas PDF dokumen ini? Pilih atau jatuhkan berkasnya untuk \
                    memeriksa apakah itu dokumen yang tercatat di sini.",
    match_yes: "Berkas ini adalah dokumen yang tercatat dengan kode ini.",
    match_no: "Berkas ini bukan dokumen yang tercatat dengan kode ini.",
    match_changed: "Berkas ini memuat segel yang tercatat dengan kode ini, tetapi dokumennya \
                    diubah setelah disegel.",
    match_changed_detail: "Jangan mengandalkan isi berkas ini; mintalah salinan asli kepada \
                           instansi penerbit.",
    match_no_detail: "Tidak satu pun tanda tangannya tercatat untuk kode ini. Pastikan Anda \
                      memeriksa berkas yang benar.",
    error_title: "Dokumen tidak dapat diperiksa",
    not_found_title: "Dokumen tidak ditemukan",
    not_found_help: "Periksa kembali kodenya: kode terdiri atas 16 sampai 64 huruf, angka, \
                     tanda hubung (-) atau garis bawah (_), dan huruf besar dan kecil \
                     dibedakan. Paling mudah, pindai lagi kode QR pada dokumen.",
    technical_message: "Pesan teknis",
    back: "Kembali ke pemeriksaan dokumen",
    months: pades::stamp::template::BULAN,
};

/// English.
static EN: Texts = Texts {
    site: "Segel — Document Verification",
    skip: "Skip to content",
    switch: "Bahasa Indonesia",
    footer: "This check is run by Segel, the agencies' electronic seal service.",
    privacy: "The file you upload is only checked, never stored.",
    title: "Check a document",
    intro: "Choose or drop the PDF file of a document you received. We check every \
            electronic signature in it: whether it is genuine, whether the document changed \
            after signing, who signed it, and whether the signature is recorded in the public \
            log.",
    again: "Check another document",
    choose: "PDF file",
    drop_hint: "Choose a file, or drag and drop it here.",
    submit: "Check",
    result_title: "Verification result",
    overall_passed: "Every signature is genuine and the document is unchanged.",
    overall_passed_changed: "Every signature is genuine; changes the signatures allow were \
                             made after signing, listed below.",
    overall_failed: "This document is not genuine or has been changed.",
    overall_unknown: "Whether this document is genuine cannot be determined.",
    no_signature: "This document carries no electronic signature.",
    no_signature_detail: "Without an electronic signature, a document cannot be checked \
                          here. Ask the issuing agency for an electronically signed document.",
    file: "File",
    signature: "Signature",
    genuine: "Genuine",
    not_genuine: "Not genuine",
    undecided: "Cannot be determined",
    why: "Reason",
    coverage: "Coverage",
    whole: "The signature covers the whole document: nothing changed after it.",
    whole_unchecked: "The signature covers the whole file, but the integrity of its content \
                      could not be checked.",
    altered: "The signed content was altered: this file is not the one that was signed.",
    changed_after: "The signature covers the document as it was signed. Afterwards:",
    coverage_invalid: "The signed part of the document cannot be determined.",
    later_revision: "The document was extended afterwards without changes to the signed content.",
    signer: "Signer",
    organization: "Organisation",
    agency: "Agency",
    unknown: "unknown",
    signed_at: "Signing time",
    signed_at_note: "(as the signer states it)",
    chain: "Certificate",
    chain_trusted: "The signer's certificate was issued by a trusted issuer.",
    chain_untrusted: "The signer's certificate is not from a trusted issuer.",
    chain_unchecked: "The signer's certificate could not be checked.",
    log: "Public log",
    in_log: "This signature is recorded in the public log",
    not_in_log: "This signature is not recorded in this server's public log.",
    not_in_log_detail: "Signatures made outside this server are not in its log; that alone \
                        does not make them false.",
    logged_at: "Logged on",
    proof: "Proof of inclusion",
    proof_ok: "verified",
    proof_bad: "not verified",
    log_size: "Log size",
    technical: "Technical details",
    field: "Signature field name",
    indication: "Indication",
    sub_indication: "Sub-indication",
    engine_reason: "Verifier's note",
    checks: "Checks",
    passed: "passed",
    failed: "failed",
    subject: "Certificate subject",
    issuer: "Certificate issuer",
    serial: "Serial number",
    validity: "Valid",
    until: "until",
    cert_digest: "Certificate SHA-256",
    message_digest: "Signed bytes SHA-256",
    signature_digest: "Signature value SHA-256",
    algorithms: "Algorithms",
    form: "Signature form",
    document_title: "Recorded document",
    document_intro: "This is what the public log records for the document with this code.",
    document_code: "Document code",
    document_digest: "Document SHA-256",
    checkpoint: "Log checkpoint",
    checkpoint_note: "The signed checkpoint note",
    verifier_key: "Verifier key",
    compare: "Compare with your file",
    compare_intro: "Do you have this document's PDF file? Choose or drop it to check whether \
                    it is the document recorded here.",
    match_yes: "This file is the document recorded under this code.",
    match_no: "This file is not the document recorded under this code.",
    match_changed: "This file carries the seal recorded under this code, but the document was \
                    changed after it was sealed.",
    match_changed_detail: "Do not rely on this file's content; ask the issuing agency for the \
                           original.",
    match_no_detail: "None of its signatures is recorded for this code. Make sure you are \
                      checking the right file.",
    error_title: "The document cannot be checked",
    not_found_title: "Document not found",
    not_found_help: "Check the code again: it has 16 to 64 letters, digits, hyphens (-) or \
                     underscores (_), and upper and lower case differ. Easiest is to scan \
                     the QR code on the document again.",
    technical_message: "Technical message",
    back: "Back to document verification",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_wib_in_each_language() {
        // 2026-12-05 04:23:00 UTC is 11.23 WIB.
        let ms = 1_796_444_580_000;
        assert_eq!(Lang::Id.wib(ms), "5 Desember 2026 pukul 11.23 WIB");
        assert_eq!(Lang::En.wib(ms), "5 December 2026, 11:23 WIB");
        // Past midnight in Jakarta while still the day before in UTC.
        let ms = 1_796_403_600_000; // 2026-12-04 17:00:00 UTC
        assert_eq!(Lang::Id.wib(ms), "5 Desember 2026 pukul 00.00 WIB");
    }

    #[test]
    fn only_lang_en_asks_for_english() {
        assert_eq!(Lang::from_query(None), Lang::Id);
        assert_eq!(Lang::from_query(Some("lang=en")), Lang::En);
        assert_eq!(Lang::from_query(Some("x=1&lang=en")), Lang::En);
        assert_eq!(Lang::from_query(Some("lang=fr")), Lang::Id);
        assert_eq!(Lang::from_query(Some("lang=english%00&&&")), Lang::Id);
    }
}
