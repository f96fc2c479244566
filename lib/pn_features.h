/*
 * pn_features.h -- compile-time feature switches (private).
 *
 * A firmware build leaves out what it does not need by defining, on the
 * compiler command line or in its own header named by PN_CONFIG_HEADER
 * (e.g. -DPN_CONFIG_HEADER='"my_pn_config.h"', lwIP's lwipopts.h idea):
 *
 *   PN_CONFIG_NO_TCP    no TCP at all: every pn_tcp_* and pn_sock_status
 *                       returns PN_EOPNOTSUPP; a received TCP segment is
 *                       answered with ICMP protocol unreachable
 *                       (RFC 1122 3.2.2.1) and counted ip4_bad_proto.
 *   PN_CONFIG_NO_UDP    no UDP: every pn_udp_* returns PN_EOPNOTSUPP; a
 *                       received datagram gets protocol unreachable too.
 *   PN_CONFIG_NO_FRAG   no IPv4 fragmentation on send and no reassembly:
 *                       a packet above the MTU fails with PN_EMSGSIZE
 *                       (counted ip4_df_drop), a received fragment is
 *                       dropped (counted reass_no_slot).
 *   PN_CONFIG_NO_SACK   TCP never offers nor accepts SACK (RFC 2018), as
 *                       if cfg.tcp.no_sack were 1 (SACK is negotiated, so
 *                       peers just see a TCP without it);
 *                       setopt(PN_TCP_SACK, 1) returns PN_EOPNOTSUPP.
 *   PN_CONFIG_NO_CUBIC  no CUBIC (RFC 9438) congestion control: NewReno
 *                       only. setopt(PN_TCP_CC, PN_CC_CUBIC) returns
 *                       PN_EOPNOTSUPP; a config asking tcp.cc = PN_CC_CUBIC
 *                       gets NewReno, as an unknown cc value does
 *                       (getopt(PN_TCP_CC) tells the truth).
 *
 * Nothing defined means the full stack. The build (mk/cross.mk) passes
 * the switches through PN_FEATURES, e.g.
 *     make cross-cortex-m PN_FEATURES="-DPN_CONFIG_NO_FRAG -DPN_CONFIG_NO_SACK"
 *
 * HOW CODE USES IT (module owners)
 * - Test the PN_HAVE_* values below (always defined, 0 or 1), never the
 *   PN_CONFIG_NO_* names: `#if PN_HAVE_SACK` or, better where it reads
 *   well, a plain `if (PN_HAVE_SACK && ...)` so the code is still compiled
 *   and type-checked in every configuration and the optimizer drops it.
 * - A feature that is a whole file is left out as a whole file: the body of
 *   that file is wrapped in `#if PN_HAVE_X ... #endif` (lwIP does the same
 *   with LWIP_TCP), so a build may simply compile every lib/ file with
 *   the switches (mk/features.mk does, for each combination); mk/cross.mk
 *   also drops the files (PN_FEATURE_FILES_*). Files per feature:
 *       TCP   lib/tcp.c lib/tcp_*.c lib/wire_tcp.c (codec only used by TCP)
 *       UDP   lib/udp.c
 *       FRAG  lib/frag.c lib/reass.c
 *   SACK and CUBIC are parts of files that stay (tcp_sack.c also holds
 *   the out-of-order ranges every TCP needs; CUBIC lives in tcp_cc.c):
 *   their code sits under PN_HAVE_SACK / PN_HAVE_CUBIC inside TCP, with
 *   static inline no-op versions in lib/tcp.h for the #else case.
 * - The cross-module entry points of a left-out file are supplied by
 *   lib/min_stubs.c (compiled in every build; empty unless a switch is
 *   set), so callers in other modules need no #if of their own.
 *
 * Dependencies: without TCP there is no SACK nor CUBIC.
 */
#ifndef PN_FEATURES_H
#define PN_FEATURES_H

#ifdef PN_CONFIG_HEADER
#include PN_CONFIG_HEADER
#endif

#ifdef PN_CONFIG_NO_TCP
#define PN_HAVE_TCP 0
#else
#define PN_HAVE_TCP 1
#endif

#ifdef PN_CONFIG_NO_UDP
#define PN_HAVE_UDP 0
#else
#define PN_HAVE_UDP 1
#endif

#ifdef PN_CONFIG_NO_FRAG
#define PN_HAVE_FRAG 0
#else
#define PN_HAVE_FRAG 1
#endif

#if defined(PN_CONFIG_NO_SACK) || !PN_HAVE_TCP
#define PN_HAVE_SACK 0
#else
#define PN_HAVE_SACK 1
#endif

#if defined(PN_CONFIG_NO_CUBIC) || !PN_HAVE_TCP
#define PN_HAVE_CUBIC 0
#else
#define PN_HAVE_CUBIC 1
#endif

/* 1 when every feature is in: the configuration the test suite covers. */
#define PN_HAVE_ALL (PN_HAVE_TCP && PN_HAVE_UDP && PN_HAVE_FRAG && PN_HAVE_SACK && PN_HAVE_CUBIC)

#endif /* PN_FEATURES_H */
