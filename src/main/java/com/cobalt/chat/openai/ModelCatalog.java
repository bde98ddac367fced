package com.cobalt.chat.openai;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.model.Catalog;
import com.fasterxml.jackson.annotation.JsonProperty;
import org.apache.camel.Header;
import org.apache.camel.Variable;

/**
 * The OpenAI-compatible view of the gateway's {@link Catalog}: GET /v1/models lists the same provider-neutral ids
 * as GET /api/v1/models (the default model first), and a request's {@code model} is one of them. Which provider
 * serves it and where it falls back is the catalog's decision, as for session messages; the caller sees the model
 * id it asked for.
 */
public class ModelCatalog {

    /**
     * OpenAI's model object; {@code owned_by} is the gateway, never the provider. {@code capabilities} is the
     * gateway's addition (tools, json_schema, vision, reasoning): what a request may ask of the model.
     */
    public record Model(String id, String object, long created, @JsonProperty("owned_by") String ownedBy,
                        List<String> capabilities) {
    }

    /** OpenAI's list shape: {@code {"object":"list","data":[...]}}. */
    public record ModelList(String object, List<Model> data) {
    }

    static final String OWNER = "cobalt-chat-gateway";

    private final Catalog catalog;
    private final long created;

    public ModelCatalog(Catalog catalog, Clock clock) {
        this.catalog = catalog;
        this.created = clock.instant().getEpochSecond();
    }

    /** GET /v1/models: each id once, the default model first. */
    public ModelList list() {
        List<Model> data = new ArrayList<>();
        String first = catalog.defaultModel();
        data.add(modelObject(first));
        catalog.ids().stream().filter(id -> !id.equals(first)).forEach(id -> data.add(modelObject(id)));
        return new ModelList("list", data);
    }

    /**
     * GET /v1/models/{model}: one model object; 404 model_not_found for an id not in the catalog. An id with a '/'
     * arrives as its first segment ({@code model}) and the rest of the path ({@code *}, from its '/' on, decoded) when
     * sent unencoded, as the OpenAI Python SDK sends {@code models.retrieve("meta-llama/Llama-3.3-70B-Instruct")}; whole
     * in {@code model} when sent encoded ({@code %2F}).
     */
    public Model model(@Header("model") String first, @Header("*") String rest) {
        String id = rest == null ? first : first + rest;
        if (!catalog.contains(id)) {
            throw notFound(id);
        }
        return modelObject(id);
    }

    private Model modelObject(String id) {
        return new Model(id, "model", created, OWNER, catalog.capabilities(id));
    }

    /** The model a request asked for (the default model when it named none); 404 model_not_found otherwise. */
    public String modelOf(@Variable("completionRequest") ChatCompletionRequest request) {
        String asked = request.model();
        if (asked == null) {
            return catalog.defaultModel();
        }
        if (!catalog.contains(asked)) {
            throw notFound(asked);
        }
        return asked;
    }

    private static ApiError notFound(String id) {
        return new ApiError(404, "model_not_found", "The model `" + ApiError.echo(id) + "` does not exist or you do not have"
                + " access to it. GET /v1/models lists the available models.", Map.of(), "model");
    }
}
