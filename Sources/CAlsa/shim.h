// CAlsa: the ALSA library (pkg-config `alsa`) as a system-library module.
#pragma once
#include <alsa/asoundlib.h>
#include "audio_shim.h"
