// COpus: libopus (pkg-config `opus`) as a system-library module.
#pragma once
#include <opus.h>
