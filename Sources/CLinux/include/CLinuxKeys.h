// CLinux additions for the Keys module (inotify, terminal raw mode, input devices).
#pragma once
