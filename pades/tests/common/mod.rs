//! Test support shared by the engine's integration tests: a self-signed RSA-2048 seal.

use pades::{RsaKeySigner, SignatureAlgorithm, SignerIdentity};

/// A signing key, its identity and its certificate (DER), which is also the trust anchor.
pub(crate) struct Seal {
    /// The key.
    pub(crate) signer: RsaKeySigner,
    /// The certificate chain for the CMS.
    pub(crate) identity: SignerIdentity,
    /// The self-signed certificate.
    pub(crate) cert: Vec<u8>,
}

/// A fresh self-signed seal named `cn`, valid through 2026–2029.
pub(crate) fn seal(cn: &str) -> Seal {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.not_before = rcgen::date_time_ymd(2026, 1, 1);
    params.not_after = rcgen::date_time_ymd(2030, 1, 1);
    let cert = params.self_signed(&key).expect("cert");
    let signer = RsaKeySigner::from_der(&key.serialize_der(), SignatureAlgorithm::RsaPkcs1Sha256)
        .expect("signer");
    let identity = SignerIdentity::new(vec![cert.der().to_vec()]).expect("identity");
    Seal {
        signer,
        identity,
        cert: cert.der().to_vec(),
    }
}
