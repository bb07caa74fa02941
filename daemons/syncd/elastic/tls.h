// TLS 1.3 with mutual X.509 authentication for peer links (Boost.Asio over OpenSSL). Both sides
// present a certificate signed by the cluster CA; the peer's common name must be the member name
// it claims (pinned in the configuration). No session tickets: every connection is a full
// handshake, so recorded sessions cannot be resumed or replayed.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <string>

#include "elastic/result.h"

namespace elastic::sync {

using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

Result<void> setup_tls(boost::asio::ssl::context& ctx, const std::string& ca, const std::string& cert,
                       const std::string& key);

// The common name of the peer's (verified) certificate, empty if none.
std::string peer_common_name(TlsStream& stream);

}  // namespace elastic::sync
