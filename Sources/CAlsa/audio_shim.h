// Audio module shims over ALSA: what Swift cannot call or express directly (the alloca-based
// parameter containers, the variadic error handler, loading a configuration from text), as
// static inline functions the clang importer emits for both host and Embedded builds.
// Each returns ALSA's status (0 or a negative errno); `failed` names the call that refused.
#pragma once
#include <alsa/asoundlib.h>

static void deskphone_alsa_discard_log(const char *file, int line, const char *function, int err,
                                       const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}

/// Silences (quiet != 0) or restores ALSA's own error messages on stderr; the Audio module
/// reports every failure itself, with the device name.
static inline void deskphone_alsa_quiet(int quiet) {
    snd_lib_error_set_handler(quiet ? deskphone_alsa_discard_log : NULL);
}

/// Opens `name` with the global configuration (text == NULL) or with the configuration parsed
/// from `text` alone (snd_pcm_open_lconf). The parsed tree is returned in `*config` (NULL when
/// none); free it with snd_config_delete after snd_pcm_close.
static inline int deskphone_pcm_open(snd_pcm_t **pcm, snd_config_t **config, const char *name,
                                     const char *text, snd_pcm_stream_t stream, int mode,
                                     const char **failed) {
    *pcm = NULL;
    *config = NULL;
    if (text == NULL) {
        *failed = "snd_pcm_open";
        return snd_pcm_open(pcm, name, stream, mode);
    }
    snd_config_t *top = NULL;
    snd_input_t *input = NULL;
    int rc = snd_config_top(&top);
    if (rc < 0) { *failed = "snd_config_top"; return rc; }
    rc = snd_input_buffer_open(&input, text, -1);
    if (rc < 0) { *failed = "snd_input_buffer_open"; snd_config_delete(top); return rc; }
    rc = snd_config_load(top, input);
    snd_input_close(input);
    if (rc < 0) { *failed = "snd_config_load"; snd_config_delete(top); return rc; }
    *failed = "snd_pcm_open_lconf";
    rc = snd_pcm_open_lconf(pcm, name, stream, mode, top);
    if (rc < 0) { snd_config_delete(top); return rc; }
    *config = top;
    return 0;
}

/// Hardware parameters: interleaved S16_LE, `channels`, the rate, period and buffer sizes set
/// "near" the wishes; the values the device took are written back.
static inline int deskphone_pcm_set_hw(snd_pcm_t *pcm, unsigned channels, unsigned *rate,
                                       snd_pcm_uframes_t *period, snd_pcm_uframes_t *buffer,
                                       const char **failed) {
    snd_pcm_hw_params_t *hw;
    snd_pcm_hw_params_alloca(&hw);
    int dir = 0, rc;
    if ((rc = snd_pcm_hw_params_any(pcm, hw)) < 0) { *failed = "snd_pcm_hw_params_any"; return rc; }
    if ((rc = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0) {
        *failed = "snd_pcm_hw_params_set_access(RW_INTERLEAVED)"; return rc;
    }
    if ((rc = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0) {
        *failed = "snd_pcm_hw_params_set_format(S16_LE)"; return rc;
    }
    if ((rc = snd_pcm_hw_params_set_channels(pcm, hw, channels)) < 0) {
        *failed = "snd_pcm_hw_params_set_channels"; return rc;
    }
    if ((rc = snd_pcm_hw_params_set_rate_near(pcm, hw, rate, &dir)) < 0) {
        *failed = "snd_pcm_hw_params_set_rate_near"; return rc;
    }
    dir = 0;
    if ((rc = snd_pcm_hw_params_set_period_size_near(pcm, hw, period, &dir)) < 0) {
        *failed = "snd_pcm_hw_params_set_period_size_near"; return rc;
    }
    if ((rc = snd_pcm_hw_params_set_buffer_size_near(pcm, hw, buffer)) < 0) {
        *failed = "snd_pcm_hw_params_set_buffer_size_near"; return rc;
    }
    if ((rc = snd_pcm_hw_params(pcm, hw)) < 0) { *failed = "snd_pcm_hw_params"; return rc; }
    dir = 0;
    snd_pcm_hw_params_get_rate(hw, rate, &dir);
    dir = 0;
    snd_pcm_hw_params_get_period_size(hw, period, &dir);
    snd_pcm_hw_params_get_buffer_size(hw, buffer);
    return 0;
}

/// Software parameters: wake-up at `avail_min` frames, automatic start at `start_threshold`.
static inline int deskphone_pcm_set_sw(snd_pcm_t *pcm, snd_pcm_uframes_t avail_min,
                                       snd_pcm_uframes_t start_threshold, const char **failed) {
    snd_pcm_sw_params_t *sw;
    snd_pcm_sw_params_alloca(&sw);
    int rc;
    if ((rc = snd_pcm_sw_params_current(pcm, sw)) < 0) { *failed = "snd_pcm_sw_params_current"; return rc; }
    if ((rc = snd_pcm_sw_params_set_avail_min(pcm, sw, avail_min)) < 0) {
        *failed = "snd_pcm_sw_params_set_avail_min"; return rc;
    }
    if ((rc = snd_pcm_sw_params_set_start_threshold(pcm, sw, start_threshold)) < 0) {
        *failed = "snd_pcm_sw_params_set_start_threshold"; return rc;
    }
    if ((rc = snd_pcm_sw_params(pcm, sw)) < 0) { *failed = "snd_pcm_sw_params"; return rc; }
    return 0;
}
