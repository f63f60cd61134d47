// libsensors (lm-sensors 3.x) has no pkg-config file; this header is the whole binding.
#include <sensors/sensors.h>
#include <sensors/error.h>
