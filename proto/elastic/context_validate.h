// Checks the (mandatory) fields of proto/elastic.proto; the error lists every missing or invalid
// field by its path, e.g. "context.ike_sa.spi_r: missing; context.ike_sa.child_sas[0].keys: missing".
#pragma once

#include "elastic.pb.h"
#include "elastic/result.h"

namespace elastic {

Result<void> validate(const v1::Envelope& envelope);
Result<void> validate(const v1::VpnContext& context);

}  // namespace elastic
