// CLinux additions for the Indicators module (framebuffer, terminal size).
#pragma once
