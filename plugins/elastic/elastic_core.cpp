#include "elastic_core.h"

#include "elastic.pb.h"

extern "C" const char* elastic_core_version(void) {
  return ELASTIC_VERSION;
}

extern "C" int elastic_core_schema_version(void) {
  return elastic::v1::SCHEMA_VERSION_1;
}
