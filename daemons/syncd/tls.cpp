#include "elastic/tls.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace elastic::sync {

Result<void> setup_tls(boost::asio::ssl::context& ctx, const std::string& ca, const std::string& cert,
                       const std::string& key) {
  boost::system::error_code ec;
  SSL_CTX* raw = ctx.native_handle();
  SSL_CTX_set_min_proto_version(raw, TLS1_3_VERSION);
  // No resumption: no cache, and no TLS 1.3 tickets at all (SSL_OP_NO_TICKET alone only makes
  // them stateful; they would still be sent).
  SSL_CTX_set_options(raw, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(raw, 0);
  // Replicas carry VPN keys in plaintext inside the TLS records. OpenSSL (3.0+) then cleanses
  // each decrypted record once SSL_read has copied it out, and the read buffer when it frees it;
  // RELEASE_BUFFERS frees (so, with CLEANSE, wipes) the read buffer whenever a connection has
  // nothing pending, so an idle link holds no copy (Boost.Asio's engine also sets it per SSL). Outgoing records are
  // encrypted in place in the write buffer (TLS 1.3: AEAD only), which OpenSSL frees without cleansing.
  SSL_CTX_set_options(raw, SSL_OP_CLEANSE_PLAINTEXT);
  SSL_CTX_set_mode(raw, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_OFF);
  ctx.set_verify_mode(boost::asio::ssl::verify_peer | boost::asio::ssl::verify_fail_if_no_peer_cert);
  if (ctx.load_verify_file(ca, ec); ec) return make_error("TLS CA " + ca + ": " + ec.message());
  if (ctx.use_certificate_chain_file(cert, ec); ec) return make_error("TLS certificate " + cert + ": " + ec.message());
  if (ctx.use_private_key_file(key, boost::asio::ssl::context::pem, ec); ec)
    return make_error("TLS key " + key + ": " + ec.message());
  if (SSL_CTX_check_private_key(raw) != 1) return make_error("TLS key " + key + " does not match " + cert);
  return {};
}

std::string peer_common_name(TlsStream& stream) {
  X509* x = SSL_get_peer_certificate(stream.native_handle());
  if (!x) return "";
  char cn[256] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
  X509_free(x);
  return cn;
}

}  // namespace elastic::sync
