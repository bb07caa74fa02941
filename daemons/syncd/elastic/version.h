// The project's version (CMake's PROJECT_VERSION), for the daemons' --version.
#pragma once

namespace elastic {

const char* project_version();

}  // namespace elastic
