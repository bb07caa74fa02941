#include "elastic/version.h"

namespace elastic {

const char* project_version() {
  return ELASTIC_PROJECT_VERSION;
}

}  // namespace elastic
