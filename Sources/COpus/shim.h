// COpus: libopus (pkg-config `opus`) as a system-library module.
#pragma once
#include <opus.h>
#include "ctl.h"
