package com.cobalt.chat.testing;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A gateway with SambaNova and Azure both faked on loopback, the start of most /v1 feature tests: SambaNova is the
 * primary (its model Meta-Llama-3.3-70B-Instruct), Azure serves one deployment. {@link #reset()} between tests,
 * {@link #close()} after the class.
 */
public final class TwoProviders implements AutoCloseable {

    public final FakeUpstream samba;
    public final FakeUpstream azure;
    public final RunningGateway gateway;
    public final GatewayClient client;

    private TwoProviders(FakeUpstream samba, FakeUpstream azure, RunningGateway gateway) {
        this.samba = samba;
        this.azure = azure;
        this.gateway = gateway;
        this.client = new GatewayClient(gateway);
    }

    /**
     * @param azureDeployment the deployment (and model) the Azure fake serves
     * @param azureKey        Azure's API key (a test may look for it in logs)
     * @param settings        more gateway settings, applied last
     */
    public static TwoProviders start(String azureDeployment, String azureKey, Map<String, String> settings) {
        FakeUpstream samba = FakeUpstream.start();
        FakeUpstream azure = FakeUpstream.start();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("azure.ai.endpoint", azure.baseUrl());
        p.put("azure.ai.api-key", azureKey);
        p.put("azure.ai.deployment", azureDeployment);
        p.putAll(settings);
        return new TwoProviders(samba, azure, RunningGateway.sambanovaAt(samba, p));
    }

    /** Both fakes forget their scripts and the requests they saw. */
    public void reset() {
        samba.reset();
        azure.reset();
    }

    @Override
    public void close() {
        gateway.close();
        samba.close();
        azure.close();
    }
}
