// CEvdev: libevdev (pkg-config `libevdev`) as a system-library module.
#pragma once
#include <libevdev/libevdev.h>
