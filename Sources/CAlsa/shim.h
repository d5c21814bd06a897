// CAlsa: the ALSA library (pkg-config `alsa`) as a system-library module.
#pragma once
#include <alsa/asoundlib.h>
