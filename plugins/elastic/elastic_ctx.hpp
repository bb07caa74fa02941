// The C++ side of elastic_ctx_t: it is a VpnContext.
#pragma once

#include "elastic.pb.h"
#include "elastic_ctx.h"

struct elastic_ctx_t {
  elastic::v1::VpnContext msg;
};
