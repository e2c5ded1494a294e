//! The private-key operation, behind a small trait so that a key file, an HSM or a remote signer
//! can stand behind it.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::{KeyPair as _, RsaEncoding, RSA_PKCS1_SHA256, RSA_PSS_SHA256};

use crate::error::SignerError;

/// Signature algorithms the engine produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (the default; RFC 8017 §8.2).
    RsaPkcs1Sha256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt (RFC 8017 §8.1, RFC 4055).
    RsaPssSha256,
}

/// Something that signs with a private key.
///
/// `sign` receives the whole message (the DER signed attributes) and hashes it itself, which is
/// what PKCS#11 `CKM_SHA256_RSA_PKCS` and most remote signing APIs expect.
pub trait Signer {
    /// The algorithm `sign` uses.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// The length in bytes of the signatures `sign` returns (the RSA modulus length).
    fn signature_len(&self) -> usize;
    /// The signer's public key as an `RSAPublicKey` DER (PKCS#1), to check it against the
    /// certificate before anything is signed.
    fn public_key(&self) -> &[u8];
    /// Sign `message`.
    ///
    /// # Errors
    /// When the key or device fails.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError>;
}

/// An RSA key held in process memory by aws-lc-rs (constant-time, blinded private-key
/// operations; the key material is freed and cleansed by AWS-LC on drop).
pub struct RsaKeySigner {
    key: KeyPair,
    algorithm: SignatureAlgorithm,
    rng: SystemRandom,
}

impl std::fmt::Debug for RsaKeySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("RsaKeySigner")
            .field("bits", &(self.key.public_modulus_len() * 8))
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// RSA key sizes accepted for signing.
pub const RSA_KEY_BITS: [usize; 3] = [2048, 3072, 4096];

impl RsaKeySigner {
    /// Load an RSA private key from DER, PKCS#8 or PKCS#1 (`RSAPrivateKey`).
    ///
    /// # Errors
    /// If the key does not parse, is not RSA, or is not 2048, 3072 or 4096 bits.
    pub fn from_der(der: &[u8], algorithm: SignatureAlgorithm) -> Result<Self, SignerError> {
        let key = KeyPair::from_pkcs8(der)
            .or_else(|_| KeyPair::from_der(der))
            .map_err(|_| {
                SignerError("the key is neither a PKCS#8 nor a PKCS#1 RSA private key".into())
            })?;
        let bits = key.public_modulus_len() * 8;
        if !RSA_KEY_BITS.contains(&bits) {
            return Err(SignerError(format!(
                "RSA-{bits} key: only 2048, 3072 and 4096 bits are accepted"
            )));
        }
        Ok(Self {
            key,
            algorithm,
            rng: SystemRandom::new(),
        })
    }

    fn encoding(&self) -> &'static dyn RsaEncoding {
        match self.algorithm {
            SignatureAlgorithm::RsaPkcs1Sha256 => &RSA_PKCS1_SHA256,
            SignatureAlgorithm::RsaPssSha256 => &RSA_PSS_SHA256,
        }
    }
}

impl Signer for RsaKeySigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn signature_len(&self) -> usize {
        self.key.public_modulus_len()
    }

    fn public_key(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let mut sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(self.encoding(), &self.rng, message, &mut sig)
            .map_err(|_| SignerError("RSA signing failed".into()))?;
        Ok(sig)
    }
}
