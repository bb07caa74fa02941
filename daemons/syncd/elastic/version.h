// The project's version (CMake's PROJECT_VERSION), for the daemons' --version and build_info metric.
#pragma once

namespace elastic {

const char* project_version();

}  // namespace elastic
