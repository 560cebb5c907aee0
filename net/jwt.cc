#include "net/jwt.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <memory>

namespace kubit::net {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

EVP_PKEY* LoadKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return key;
}

}  // namespace

std::string Base64UrlEncode(const std::string& in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

bool Base64UrlDecode(const std::string& in, std::string* out) {
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const char* p = strchr(kAlphabet, c);
    if (!p || c == '\0') return false;
    acc = (acc << 6) | static_cast<uint32_t>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

std::string KeyId(const std::string& key_pem) {
  EVP_PKEY* key = LoadKey(key_pem);
  if (!key) return "";
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key, &der);
  std::string out;
  if (n > 0) {
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(der, static_cast<size_t>(n), md, &len, EVP_sha256(), nullptr);
    out = Base64UrlEncode(std::string(reinterpret_cast<char*>(md), len));
  }
  OPENSSL_free(der);
  EVP_PKEY_free(key);
  return out;
}

bool SignJwtES256(const std::string& key_pem, const std::string& kid,
                  const std::string& payload_json, std::string* token, std::string* error) {
  EVP_PKEY* key = LoadKey(key_pem);
  if (!key) {
    *error = "cannot load the signing key";
    return false;
  }
  std::string input = Base64UrlEncode("{\"alg\":\"ES256\",\"kid\":\"" + kid + "\"}") + "." +
                      Base64UrlEncode(payload_json);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string der;
  bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1;
  if (ok) {
    der.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len,
                        reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    der.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) {
    *error = "signing failed";
    return false;
  }
  // JWS wants R || S, 32 bytes each, not DER.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!sig) {
    *error = "bad signature encoding";
    return false;
  }
  unsigned char raw[64];
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
  ECDSA_SIG_free(sig);
  *token = input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(raw), 64));
  return true;
}

bool VerifyJwtES256(const std::string& key_pem, const std::string& token, std::string* payload_json) {
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  if (d1 == std::string::npos || d1 == d2) return false;
  std::string header, raw;
  if (!Base64UrlDecode(token.substr(0, d1), &header) ||
      header.find("\"ES256\"") == std::string::npos)
    return false;
  if (!Base64UrlDecode(token.substr(d2 + 1), &raw) || raw.size() != 64) return false;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  EVP_PKEY* key = LoadKey(key_pem);
  std::string input = token.substr(0, d2);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = key && der_len > 0 &&
            EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, der, static_cast<size_t>(der_len),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  OPENSSL_free(der);
  if (!ok) return false;
  return Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1), payload_json);
}

}  // namespace kubit::net
