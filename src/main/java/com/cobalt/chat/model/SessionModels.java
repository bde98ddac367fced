package com.cobalt.chat.model;

import com.cobalt.chat.record.ChatRecorder;
import com.cobalt.chat.store.NewSession;
import com.cobalt.chat.store.SessionContext;
import org.apache.camel.Body;
import org.apache.camel.Variable;

/**
 * The session-create step that fixes a new session's model: the caller's choice (400 unknown_model listing the
 * valid ids when the catalog does not have it), else the A/B split's draw (stored as the session's variant too),
 * else none - the session then follows the default model.
 */
public class SessionModels {

    private final Catalog catalog;
    private final ModelSplit split;

    public SessionModels(Catalog catalog, ModelSplit split) {
        this.catalog = catalog;
        this.split = split;
    }

    public NewSession assign(@Body NewSession request) {
        if (request.model() != null) {
            if (!catalog.contains(request.model())) {
                throw catalog.unknownModel(request.model());
            }
            return request.withModel(request.model(), null);
        }
        String arm = split.choose();
        return arm == null ? request : request.withModel(arm, arm);
    }

    /** The session's A/B arm as metrics label it: its variant, or {@value ChatRecorder#NO_VARIANT}. */
    public String variantOf(@Variable("sessionContext") SessionContext session) {
        return session.variant() == null ? ChatRecorder.NO_VARIANT : session.variant();
    }
}
