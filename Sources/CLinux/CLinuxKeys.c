// Implementation of CLinuxKeys.h.
#define _GNU_SOURCE
#include "CLinux.h"
