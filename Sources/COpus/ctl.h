// COpus ctl shims: `opus_encoder_ctl` and `opus_decoder_ctl` are variadic, which Swift cannot
// call, so each request the Voice module uses gets a static inline wrapper here. The clang
// importer emits these for both host and Embedded builds; no C target is needed.
// Every wrapper returns libopus's status (OPUS_OK or a negative OPUS_* error code).
#pragma once
#include <opus.h>

// MARK: encoder setters

static inline int deskphone_opus_enc_set_bitrate(OpusEncoder *e, opus_int32 bitsPerSecond) {
    return opus_encoder_ctl(e, OPUS_SET_BITRATE(bitsPerSecond));
}
static inline int deskphone_opus_enc_set_complexity(OpusEncoder *e, opus_int32 complexity) {
    return opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(complexity));
}
static inline int deskphone_opus_enc_set_inband_fec(OpusEncoder *e, opus_int32 on) {
    return opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(on));
}
static inline int deskphone_opus_enc_set_packet_loss_perc(OpusEncoder *e, opus_int32 percent) {
    return opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(percent));
}
static inline int deskphone_opus_enc_set_dtx(OpusEncoder *e, opus_int32 on) {
    return opus_encoder_ctl(e, OPUS_SET_DTX(on));
}
static inline int deskphone_opus_enc_set_vbr(OpusEncoder *e, opus_int32 on) {
    return opus_encoder_ctl(e, OPUS_SET_VBR(on));
}
static inline int deskphone_opus_enc_set_signal(OpusEncoder *e, opus_int32 signal) {
    return opus_encoder_ctl(e, OPUS_SET_SIGNAL(signal));
}
static inline int deskphone_opus_enc_set_max_bandwidth(OpusEncoder *e, opus_int32 bandwidth) {
    return opus_encoder_ctl(e, OPUS_SET_MAX_BANDWIDTH(bandwidth));
}
static inline int deskphone_opus_enc_reset(OpusEncoder *e) {
    return opus_encoder_ctl(e, OPUS_RESET_STATE);
}

// MARK: encoder getters

static inline int deskphone_opus_enc_get_bitrate(OpusEncoder *e, opus_int32 *out) {
    return opus_encoder_ctl(e, OPUS_GET_BITRATE(out));
}
static inline int deskphone_opus_enc_get_complexity(OpusEncoder *e, opus_int32 *out) {
    return opus_encoder_ctl(e, OPUS_GET_COMPLEXITY(out));
}
static inline int deskphone_opus_enc_get_inband_fec(OpusEncoder *e, opus_int32 *out) {
    return opus_encoder_ctl(e, OPUS_GET_INBAND_FEC(out));
}
static inline int deskphone_opus_enc_get_packet_loss_perc(OpusEncoder *e, opus_int32 *out) {
    return opus_encoder_ctl(e, OPUS_GET_PACKET_LOSS_PERC(out));
}
static inline int deskphone_opus_enc_get_dtx(OpusEncoder *e, opus_int32 *out) {
    return opus_encoder_ctl(e, OPUS_GET_DTX(out));
}
static inline int deskphone_opus_enc_get_lookahead(OpusEncoder *e, opus_int32 *out) {
    return opus_encoder_ctl(e, OPUS_GET_LOOKAHEAD(out));
}
static inline int deskphone_opus_enc_get_final_range(OpusEncoder *e, opus_uint32 *out) {
    return opus_encoder_ctl(e, OPUS_GET_FINAL_RANGE(out));
}
#ifdef OPUS_GET_IN_DTX_REQUEST
static inline int deskphone_opus_enc_get_in_dtx(OpusEncoder *e, opus_int32 *out) {
    return opus_encoder_ctl(e, OPUS_GET_IN_DTX(out));
}
#else
static inline int deskphone_opus_enc_get_in_dtx(OpusEncoder *e, opus_int32 *out) {
    (void)e; (void)out;
    return OPUS_UNIMPLEMENTED;
}
#endif

// MARK: decoder

static inline int deskphone_opus_dec_reset(OpusDecoder *d) {
    return opus_decoder_ctl(d, OPUS_RESET_STATE);
}
static inline int deskphone_opus_dec_get_last_packet_duration(OpusDecoder *d, opus_int32 *out) {
    return opus_decoder_ctl(d, OPUS_GET_LAST_PACKET_DURATION(out));
}
static inline int deskphone_opus_dec_get_final_range(OpusDecoder *d, opus_uint32 *out) {
    return opus_decoder_ctl(d, OPUS_GET_FINAL_RANGE(out));
}
static inline int deskphone_opus_dec_get_pitch(OpusDecoder *d, opus_int32 *out) {
    return opus_decoder_ctl(d, OPUS_GET_PITCH(out));
}
static inline int deskphone_opus_dec_set_gain(OpusDecoder *d, opus_int32 q8dB) {
    return opus_decoder_ctl(d, OPUS_SET_GAIN(q8dB));
}
