// OpenSSL's libcrypto, for the SHA-256 check of `dae fetch` downloads on
// Linux (EVP_Digest with EVP_sha256). Only the `dae` tool uses it.
#include <openssl/evp.h>
