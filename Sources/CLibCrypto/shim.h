/* The SHA-256 context functions are deprecated in OpenSSL 3 in favour of EVP, whose contexts
   live on the heap; masking copies a prepared context per value, which EVP cannot do without an
   allocation. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
