#ifndef GOAL_SIGNALS_CHIREDIS_SHIM_H
#define GOAL_SIGNALS_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <poll.h>
#endif
