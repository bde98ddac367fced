package com.cobalt.chat.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * GET /api/v1/me: who is calling, as the web page needs it before anything else - whether a token is needed and
 * was sent ({@code signed_in}), the user id (the token's {@code sub}, or {@code local} with authentication off) and
 * whether the caller has the operator (admin) role. {@code user} is absent when not signed in.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Caller(@JsonProperty("signed_in") boolean signedIn,
                     @JsonProperty("auth_required") boolean authRequired,
                     String user,
                     boolean operator) {
}
