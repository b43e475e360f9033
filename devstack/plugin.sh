#!/bin/bash
#
# devstack/plugin.sh
# nutanix-openstack DevStack plugin: phase dispatch only; the work is done
# by the functions of devstack/lib/nutanix-* (sourced by settings).
#
#   enable_plugin nutanix-openstack <repo> [branch]

if [[ "$1" == "stack" && "$2" == "pre-install" ]]; then
    nutanix_check_settings

elif [[ "$1" == "stack" && "$2" == "install" ]]; then
    echo_summary "Installing nutanix-openstack"
    install_nutanix_openstack

elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
    # The services start right after this phase: the backend must answer.
    if nutanix_using_emulator && is_service_enabled nutanix-emulator; then
        echo_summary "Starting nutanix-emulator"
        configure_nutanix_emulator
        start_nutanix_emulator
    fi
    nutanix_check_endpoint
    if [[ "$NUTANIX_ENABLE_GLANCE" == "True" ]] && \
            is_service_enabled g-api; then
        echo_summary "Configuring Glance for Nutanix"
        configure_nutanix_glance
    fi
    if [[ "$NUTANIX_ENABLE_NOVA" == "True" ]] && \
            is_service_enabled n-cpu; then
        echo_summary "Configuring Nova for Nutanix"
        configure_nutanix_nova
    fi
    if nutanix_neutron_enabled; then
        echo_summary "Configuring Neutron ML2 for Nutanix"
        configure_nutanix_neutron
    fi
    # Cinder: DevStack's lib/cinder calls configure_cinder_backend_nutanix.

elif [[ "$1" == "stack" && "$2" == "test-config" ]]; then
    if is_service_enabled tempest; then
        echo_summary "Configuring Tempest for Nutanix"
        configure_nutanix_tempest
    fi
fi

if [[ "$1" == "unstack" ]]; then
    if nutanix_using_emulator; then
        stop_nutanix_emulator
    fi
    nutanix_restore_config
fi

if [[ "$1" == "clean" ]]; then
    if nutanix_using_emulator; then
        stop_nutanix_emulator
        cleanup_nutanix_emulator
    fi
    nutanix_restore_config
    nutanix_remove_created
    rm -rf "$NUTANIX_STATE_DIR"
fi
