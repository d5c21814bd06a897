// Implementation of CLinuxIndicators.h.
#define _GNU_SOURCE
#include "CLinux.h"
