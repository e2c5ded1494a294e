//! PEM files: read from disk, decoded by [`pades::pem`].

use std::path::Path;

use zeroize::Zeroizing;

use crate::error::ClientError;

fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, ClientError> {
    crate::read_file(path).map(Zeroizing::new)
}

fn pem_err(path: &Path) -> impl Fn(pades::pem::PemError) -> ClientError + '_ {
    move |e| ClientError::Pem {
        path: path.to_path_buf(),
        what: e.0,
    }
}

/// Read every certificate of a PEM file (DER each), in file order.
///
/// # Errors
/// Unreadable file, or no `CERTIFICATE` block.
pub fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>, ClientError> {
    pades::pem::certificates(&read(path)?).map_err(pem_err(path))
}

/// Read a private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`) as DER.
///
/// # Errors
/// Unreadable file, encrypted key, or no key block.
pub fn read_private_key(path: &Path) -> Result<Zeroizing<Vec<u8>>, ClientError> {
    pades::pem::private_key(&read(path)?).map_err(pem_err(path))
}
